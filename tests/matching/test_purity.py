"""The matching engine is pure: no web framework, no database, nothing else of the package."""

from __future__ import annotations

import ast
from pathlib import Path

import marketplace.matching

PACKAGE = Path(marketplace.matching.__file__).parent
FORBIDDEN = ("flask", "flask_htmx", "flask_login", "flask_wtf", "sqlmodel", "sqlalchemy", "alembic",
             "apscheduler", "psycopg")


def imported_modules(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against marketplace.matching
                depth = len(path.relative_to(PACKAGE).parts) - 1 + node.level - 1
                base = "marketplace.matching" if depth == 0 else "marketplace"
                out.append(f"{base}.{node.module}" if node.module else base)
            else:
                out.append(node.module or "")
    return out


def test_every_file_imports_only_pure_modules():
    files = sorted(PACKAGE.rglob("*.py"))
    assert files
    for path in files:
        for name in imported_modules(path):
            root = name.split(".")[0]
            assert root not in FORBIDDEN, f"{path.name} imports {name}"
            if root == "marketplace":
                assert name.startswith("marketplace.matching"), f"{path.name} imports {name}"

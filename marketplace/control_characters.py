"""Control characters in text people send (Steuerzeichen): one rule for forms, query strings and uploads.

PostgreSQL refuses NUL characters in text columns (the driver raises), SQLite stores them; other
control characters (form feed, escape, backspace ...) are never typed on purpose, come from
pasted or broken data and break exports and pages. So a text is refused, never silently
cleaned, when it contains any C0 or C1 control character or DEL; only tab, line feed and
carriage return are allowed (line breaks in multi-line fields, tabs pasted from spreadsheets).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: The German message shown at a field (or cell) with a control character.
CONTROL_MESSAGE = "Das Feld enthält unzulässige Steuerzeichen."

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(text: str) -> bool:
    """True when `text` holds a control character other than tab, line feed and carriage return."""
    return _CONTROL.search(text) is not None


def any_control_characters(texts: Iterable[str]) -> bool:
    """True when one of `texts` holds a refused control character (see `has_control_characters`)."""
    return any(_CONTROL.search(text) for text in texts)

"""`python -m marketplace.matching`: exit status 0 with verifiable output, 2 with German errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import EXAMPLES, make_problem, verify

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "marketplace.matching", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_solve_prints_a_verified_solution():
    done = run("solve", str(EXAMPLES / "tiny-1.json"), "--time-limit", "5", "--deterministic")
    assert done.returncode == 0, done.stderr
    solution = json.loads(done.stdout)
    assert solution["status"] == "OPTIMAL"
    verify(json.loads((EXAMPLES / "tiny-1.json").read_text()), solution)


def test_unreadable_file_exits_2_in_german(tmp_path):
    done = run("solve", str(tmp_path / "missing.json"))
    assert done.returncode == 2
    assert "lässt sich nicht lesen" in done.stderr and "Traceback" not in done.stderr


def test_invalid_json_exits_2(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    done = run("solve", str(path))
    assert done.returncode == 2
    assert "kein gültiges JSON" in done.stderr and "Traceback" not in done.stderr


def test_invalid_problem_lists_every_error(tmp_path):
    raw = make_problem([{"seats": 0}], [{"age": -3}])
    path = tmp_path / "p.json"
    path.write_text(json.dumps(raw))
    done = run("solve", str(path))
    assert done.returncode == 2
    assert "2 Fehler" in done.stderr
    assert "Gruppe G1, Feld seats" in done.stderr and "Junge Person Y1, Feld age" in done.stderr
    assert "Traceback" not in done.stderr


def test_greedy_prints_a_feasible_solution(tmp_path):
    done = run("greedy", str(EXAMPLES / "S-1.json"))
    assert done.returncode == 0, done.stderr
    solution = json.loads(done.stdout)
    assert solution["status"] == "FEASIBLE"
    verify(json.loads((EXAMPLES / "S-1.json").read_text()), solution)


def test_explain_prints_german_text_and_json(tmp_path):
    solved = run("solve", str(EXAMPLES / "tiny-2.json"), "--time-limit", "5", "--deterministic")
    path = tmp_path / "s.json"
    path.write_text(solved.stdout)
    text = run("explain", str(EXAMPLES / "tiny-2.json"), str(path))
    assert text.returncode == 0, text.stderr
    assert text.stdout.strip()
    as_json = run("explain", str(EXAMPLES / "tiny-2.json"), str(path), "--json")
    assert as_json.returncode == 0, as_json.stderr
    json.loads(as_json.stdout)


def test_explain_with_a_broken_solution_file_exits_2(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"format": "something else"}))
    done = run("explain", str(EXAMPLES / "tiny-2.json"), str(path))
    assert done.returncode == 2 and "Lösungsdatei" in done.stderr

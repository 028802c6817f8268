"""The matching benchmark runs end to end on a tiny problem and checks every solution."""

from __future__ import annotations

from pathlib import Path

from bench.matching import Run, main, shared_dir, table


def test_benchmark_on_a_tiny_problem(tmp_path: Path, capsys):
    problem = shared_dir() / "matching" / "examples" / "tiny-1.json"
    out = tmp_path / "BENCH.md"
    status = main(["--problem", str(problem), "--time-limit", "3", "--out", str(out)])
    printed = capsys.readouterr().out
    assert status == 0
    text = out.read_text(encoding="utf-8")
    assert text.strip() == printed.strip()
    assert "Command: `python -m bench.matching --problem" in text and "cores" in text
    rows = [line for line in text.splitlines() if line.startswith("| tiny-1 |")]
    assert [row.split(" | ")[1] for row in rows] == ["engine", "greedy", "highs"]
    assert all(row.rstrip(" |").endswith("ok") for row in rows)
    assert "3 feasible, 0 FAILED" in text
    assert "| tiny-1 | highs |" in text and "OPTIMAL | 15,039 | 15,039 | 0.00 |" in text


def test_table_reports_gap_to_the_best_bound_and_failures():
    report = {"placed": 1, "young_people": 2, "group_hours_covered": 1, "group_hours_target": 4,
              "mean_km_per_assignment": 2.5, "groups_running": 1, "groups": 3}
    runs = [Run("p", "a", "FEASIBLE", 1.0, 90.0, 110.0, 10.0, report, True),
            Run("p", "b", "OPTIMAL", 1.0, 100.0, 100.0, 10.0, report, False)]
    text = table(runs)
    assert "| p | a | 1.0 | FEASIBLE | 90 | 110 | 10.00 | 50.0 | 25.0 | 2.50 | 1/3 | 10 | ok |" in text
    assert "**FAILED**" in text


def test_recommendation_benchmark_on_a_small_district(tmp_path: Path, capsys):
    from bench.recommend import main as recommend_main

    out = tmp_path / "REC.md"
    status = recommend_main(["--size", "S", "--people", "5", "--plan-seconds", "2", "--cache", str(tmp_path),
                             "--out", str(out)])
    text = out.read_text(encoding="utf-8")
    assert status == 0
    assert "Command: `python -m bench.recommend --size S" in text
    assert "| recommend (3 options, everyone else fixed) | 5 |" in text
    assert "options breaking a rule: 0." in text

"""Charts are valid SVG with a title, a description and escaped text; the map's demand rings sit on the towns."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.charts import (
    Series,
    TownFigures,
    axis_ticks,
    bar_chart,
    column_chart,
    label_number,
    line_chart,
    number_text,
    percent_text,
    supply_demand_map,
)
from marketplace.reports.pages import _fmt_euro, _fmt_hours

NS = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script> & "Träger"'


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on invalid XML (unescaped text, broken tags)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None and desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "style=" not in svg and "<script" not in svg  # CSP: no inline styles, no scripts
    return root


CHARTS = {
    "bar": lambda: bar_chart(title=EVIL, labels=[EVIL, "Nord"], id_prefix="c-bar",
                             series=[Series(EVIL, [3, 5]), Series("B", [1, None])]),
    "stacked": lambda: bar_chart(title="Gestapelt", labels=["a", "b"], id_prefix="c-stack", stacked=True,
                                 series=[Series("x", [1, 2]), Series("y", [3, 4])]),
    "column": lambda: column_chart(title="Spalten", labels=["Jan.", EVIL], id_prefix="c-col", stacked=True,
                                   series=[Series("x", [10, 20]), Series("y", [5, None])]),
    "line": lambda: line_chart(title="Linie", labels=["Jan.", "Feb.", "März"], id_prefix="c-line", percent=True,
                               series=[Series("Quote", [0.5, None, 0.75])]),
    "empty": lambda: bar_chart(title="Leer", labels=[], id_prefix="c-empty", series=[]),
}


@pytest.mark.parametrize("kind", sorted(CHARTS))
def test_charts_are_valid_accessible_svg(kind):
    svg = CHARTS[kind]()
    root = _parse(svg)
    text = "".join(root.itertext())
    if kind == "bar":
        assert EVIL in text  # shown as text, not markup
        assert "&lt;script&gt;" in svg
        bars = root.findall(f".//{NS}rect[@class='chart-bar']")
        assert len(bars) == 3  # None is no bar
        assert all(b.find(f"{NS}title") is not None for b in bars)


def test_text_alternative_names_highest_and_lowest():
    svg = bar_chart(title="T", labels=["Nord", "Süd"], id_prefix="t", series=[Series("Quote", [0.2, 0.9])],
                    percent=True)
    desc = _parse(svg).find(f"{NS}desc").text
    assert "höchster Wert 90,0 % (Süd)" in desc and "niedrigster 20,0 % (Nord)" in desc


def test_line_chart_breaks_at_missing_values():
    root = _parse(line_chart(title="L", labels=list("abcd"), id_prefix="l",
                             series=[Series("s", [1, 2, None, 3])]))
    assert len(root.findall(f".//{NS}polyline")) == 1  # a-b; the lone d is a point only
    assert len(root.findall(f".//{NS}circle")) == 3


def test_axis_ticks_are_nice_steps_to_the_data():
    assert axis_ticks(48, number_text, integer=True) == [0, 10, 20, 30, 40, 50]
    assert axis_ticks(12, number_text, integer=True) == [0, 5, 10, 15]
    assert axis_ticks(3, number_text, integer=True) == [0, 1, 2, 3]
    assert axis_ticks(1, percent_text) == [0, 0.2, 0.4, 0.6, 0.8, 1]
    assert axis_ticks(0.3, number_text) == [0, 0.1, 0.2, 0.3]
    assert axis_ticks(130, _fmt_euro) == [0, 50, 100, 150]


@pytest.mark.parametrize(("top", "fmt", "integer", "labels"), [
    (1, _fmt_euro, False, ["0 €", "1 €"]),  # was "0 € 0 € 0 € 1 € 1 € 1 €"
    (0.4, _fmt_euro, False, ["0 €", "1 €"]),
    (2.5, _fmt_hours, False, ["0 Std.", "1 Std.", "2 Std.", "3 Std."]),
    (1, number_text, True, ["0", "1"]),  # a count: no "0,2 junge Menschen"
    (2, number_text, True, ["0", "1", "2"]),
    (0, number_text, True, ["0", "1"]),  # all zero: 0 to 1
    (0, _fmt_euro, False, ["0 €", "1 €"]),
])  # fmt: skip
def test_small_axes_label_every_tick_once(top, fmt, integer, labels):
    assert [fmt(t) for t in axis_ticks(top, fmt, integer=integer)] == labels


def _tick_labels(svg: str) -> list[str]:
    return [t.text or "" for t in _parse(svg).iter(f"{NS}text") if t.get("class") == "chart-tick"]


def _check_ticks(labels: list[str], highest: float, unit: float) -> None:
    """Unique, strictly increasing from 0, exact (the label shows the tick), the last one ≥ the data."""
    numbers = [label_number(label) for label in labels]
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
    assert None not in numbers and numbers[0] == 0, labels
    assert all(a < b for a, b in zip(numbers, numbers[1:], strict=False)), labels
    assert numbers[-1] >= highest * unit * (1 - 1e-9), (labels, highest)


FORMATS = {"Anzahl": (number_text, 1), "Prozent": (percent_text, 100), "Euro": (_fmt_euro, 1),
           "Stunden": (_fmt_hours, 1)}
AMOUNTS = st.one_of(st.none(), st.integers(0, 10**6).map(float), st.floats(0, 1e9, allow_nan=False),
                    st.floats(0, 3, allow_nan=False), st.sampled_from([0.0, 0.5, 1.0, 0.01, 2.0]))


@given(columns=st.lists(st.lists(AMOUNTS, min_size=1, max_size=3), min_size=1, max_size=8),
       fmt_name=st.sampled_from(sorted(FORMATS)), kind=st.sampled_from(["bar", "stacked", "column", "line"]))
def test_tick_labels_of_any_non_negative_data_are_unique_increasing_and_cover_the_max(columns, fmt_name, kind):
    fmt, unit = FORMATS[fmt_name]
    labels = [f"L{i}" for i in range(len(columns))]
    width = max(len(c) for c in columns)
    series = [Series(f"S{j}", [c[j] if j < len(c) else None for c in columns]) for j in range(width)]
    percent = fmt_name == "Prozent"
    if kind in ("bar", "stacked"):
        svg = bar_chart(title="T", labels=labels, series=series, id_prefix="t", percent=percent, fmt=fmt,
                        stacked=kind == "stacked")
    elif kind == "column":
        svg = column_chart(title="T", labels=labels, series=series, id_prefix="t", percent=percent, fmt=fmt)
    else:
        svg = line_chart(title="T", labels=labels, series=series, id_prefix="t", percent=percent, fmt=fmt)
    if kind == "stacked":
        highest = max((sum(v or 0 for v in c) for c in columns), default=0)
    else:
        highest = max((v for c in columns for v in c if v is not None), default=0)
    _check_ticks(_tick_labels(svg), max(highest, 1.0) if percent else highest, unit)


@given(counts=st.lists(st.integers(0, 10**5), min_size=1, max_size=10))
def test_count_axes_have_whole_number_ticks(counts):
    svg = bar_chart(title="T", labels=[str(i) for i in range(len(counts))], id_prefix="t",
                    series=[Series("junge Menschen", counts)])
    labels = _tick_labels(svg)
    _check_ticks(labels, max(counts), 1)
    assert all("," not in label for label in labels)


@given(top=st.floats(0, 1e12, allow_nan=False), fmt_name=st.sampled_from(sorted(FORMATS)))
def test_axis_ticks_are_faithful_for_any_maximum(top, fmt_name):
    fmt, unit = FORMATS[fmt_name]
    ticks = axis_ticks(top, fmt)
    _check_ticks([fmt(t) for t in ticks], top, unit)
    assert len(ticks) <= 6
    assert all(abs(label_number(fmt(t)) - t * unit) <= 1e-9 * max(1, t * unit) for t in ticks)


def test_empty_and_all_zero_charts_say_so():
    empty = bar_chart(title="T", labels=[], series=[], id_prefix="t")
    assert "Keine Daten für diese Auswahl." in "".join(_parse(empty).itertext())
    assert _tick_labels(empty) == ["0", "1"]
    zeros = column_chart(title="T", labels=["Jan.", "Feb."], series=[Series("Verrechnung", [0, 0])],
                         id_prefix="z", fmt=_fmt_euro)
    assert "Alle Werte sind 0." in "".join(_parse(zeros).itertext())
    assert _tick_labels(zeros) == ["0 €", "1 €"]
    gaps = line_chart(title="T", labels=["Jan."], series=[Series("Quote", [None])], id_prefix="g", percent=True)
    assert "Keine Daten für diese Auswahl." in "".join(_parse(gaps).itertext())
    assert _tick_labels(gaps) == ["0 %", "20 %", "40 %", "60 %", "80 %", "100 %"]


def test_supply_demand_map_puts_rings_on_the_towns_and_escapes_names():
    towns = [TownFigures("Nord<stadt>", 49.9, 8.6, "Nord & Co", 2, 12, 3, 4),
             TownFigures("Südheim", 49.7, 8.7, "Süd", 0, 0, 0, 2),
             TownFigures("Ruhig", 49.8, 8.8, "Süd", 1, 6, 6, 0)]
    svg = supply_demand_map(towns, id_prefix="karte-test")
    root = _parse(svg)
    assert "Nord&lt;stadt&gt;" in svg
    rings = root.findall(f".//{NS}g[@class='map-demand-town']")
    assert len(rings) == 2
    dots = {m.group(1): (m.group(2), m.group(3)) for m in re.finditer(
        r'<g class="map-place"><title>([^<]*)</title><circle cx="([-\d.]+)" cy="([-\d.]+)"', svg)}
    for ring in rings:
        circle = ring.find(f"{NS}circle")
        assert (circle.get("cx"), circle.get("cy")) in dots.values()
    assert "4 wartende junge Menschen" in "".join(root.itertext())

"""Charts are valid SVG with a title, a description and escaped text; the map's demand rings sit on the towns."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from marketplace.charts import (
    Series,
    TownFigures,
    bar_chart,
    column_chart,
    line_chart,
    nice_max,
    supply_demand_map,
)

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


def test_nice_axis_ends():
    assert [nice_max(v) for v in (0, 0.7, 3, 12, 48, 51, 130)] == [1, 1, 5, 20, 50, 100, 200]


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

"""The server-rendered district map: valid SVG, escaped text, markers, legend, accessibility."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from marketplace.mapsvg import FREE_COLOURS, MapMarker, MapPlace, district_map, free_class, marker_radius

SVG = "{http://www.w3.org/2000/svg}"

PLACES = [
    MapPlace("Dieburg", 49.8989, 8.8403, "Sozialraum Nord"),
    MapPlace("Pfungstadt", 49.8056, 8.6036, "Sozialraum West"),
    MapPlace("Groß-Umstadt", 49.8686, 8.9317, "Sozialraum Ost"),
    MapPlace("Fischbachtal", 49.7608, 8.8117, "Sozialraum Ost"),
]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_map_is_valid_svg_with_title_desc_and_a_dot_per_municipality():
    root = parse(district_map(PLACES, title="Kreiskarte"))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox").startswith("0 0 800 ")
    assert root.find(f"{SVG}title").text == "Kreiskarte"
    assert "4 Gemeinden in 3 Sozialräumen" in root.find(f"{SVG}desc").text
    places = root.findall(f".//{SVG}g[@class='map-place']")
    assert sorted(p.find(f"{SVG}title").text.split(" (")[0] for p in places) == sorted(p.name for p in PLACES)
    labels = root.find(f".//{SVG}g[@class='map-labels']")
    assert sorted(t.text for t in labels) == sorted(p.name for p in PLACES)
    assert labels.get("pointer-events") == "none"  # labels never block a marker
    groups = [g.get("class") for g in root if g.tag == f"{SVG}g"]
    assert groups.index("map-labels") > groups.index("map-offers")  # drawn above the markers


def test_projection_keeps_the_geography():
    root = parse(district_map(PLACES))
    dots = {g.find(f"{SVG}title").text.split(" (")[0]: g.find(f"{SVG}circle") for g in root.iter(f"{SVG}g")
            if g.get("class") == "map-place"}
    x = {name: float(c.get("cx")) for name, c in dots.items()}
    y = {name: float(c.get("cy")) for name, c in dots.items()}
    assert x["Pfungstadt"] < x["Dieburg"] < x["Groß-Umstadt"]  # west to east
    assert y["Dieburg"] < y["Fischbachtal"]  # north is up
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    assert all(0 < v < width for v in x.values()) and all(0 < v < height for v in y.values())


def test_sozialraum_colours_are_shared_within_a_region_and_legend_lists_regions():
    root = parse(district_map(PLACES))
    fills = {g.find(f"{SVG}title").text.split(" (")[0]: g.find(f"{SVG}circle").get("fill")
             for g in root.iter(f"{SVG}g") if g.get("class") == "map-place"}
    assert fills["Groß-Umstadt"] == fills["Fischbachtal"] != fills["Dieburg"] != fills["Pfungstadt"]
    legend = root.find(f".//{SVG}g[@class='map-legend']")
    texts = [t.text for t in legend.iter(f"{SVG}text")]
    assert {"Sozialraum Nord", "Sozialraum West", "Sozialraum Ost", "ausgebucht"} <= set(texts)


def test_markers_are_sized_by_seats_coloured_by_free_seats_and_linked():
    markers = [
        MapMarker(49.8989, 8.8403, "Fußball", seats=20, free=5, href="/angebote/1"),
        MapMarker(49.8989, 8.8403, "Lernhilfe", seats=4, free=0),
        MapMarker(49.8056, 8.6036, "Mädchentreff", seats=8, free=2),
    ]
    root = parse(district_map(PLACES, markers))
    offers = root.find(f".//{SVG}g[@class='map-offers']")
    circles = {el.find(f"{SVG}title").text.split(":")[0]: el.find(f"{SVG}circle") for el in offers}
    assert circles["Fußball"].get("fill") == FREE_COLOURS["many"]
    assert circles["Lernhilfe"].get("fill") == FREE_COLOURS["none"]
    assert circles["Mädchentreff"].get("fill") == FREE_COLOURS["few"]
    assert float(circles["Fußball"].get("r")) > float(circles["Mädchentreff"].get("r")) > float(
        circles["Lernhilfe"].get("r"))
    # two offers in the same town are spread apart, not drawn on top of each other
    assert (circles["Fußball"].get("cx"), circles["Fußball"].get("cy")) != (
        circles["Lernhilfe"].get("cx"), circles["Lernhilfe"].get("cy"))
    links = offers.findall(f"{SVG}a")
    assert [a.get("href") for a in links] == ["/angebote/1"]
    assert offers.find(f".//{SVG}title").text == "Fußball: 5 von 20 Plätzen frei"


def test_all_text_is_escaped():
    evil = '<script>alert("x")</script> & "Quotes"'
    svg = district_map([MapPlace(evil, 49.9, 8.8, evil)],
                       [MapMarker(49.9, 8.8, evil, 5, 3, href='/x?a=1&b="2"><script>')],
                       title=evil, id_prefix='k"1')
    assert "<script>" not in svg
    root = parse(svg)  # still well-formed
    assert root.find(f"{SVG}title").text == evil
    assert root.find(f".//{SVG}a").get("href") == '/x?a=1&b="2"><script>'
    assert root.get("aria-labelledby") == 'k"1-title k"1-desc'


def test_no_inline_styles_or_scripts_for_the_csp():
    svg = district_map(PLACES, [MapMarker(49.9, 8.8, "A", 5, 1)])
    assert "style=" not in svg and "<style" not in svg and "<script" not in svg and "http://" not in svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_edge_cases_empty_and_single_point():
    assert parse(district_map([])).tag == f"{SVG}svg"
    assert parse(district_map([MapPlace("Solo", 49.9, 8.8)], show_legend=False)).tag == f"{SVG}svg"


def test_helpers():
    assert [free_class(n) for n in (-1, 0, 1, 2, 3)] == ["none", "none", "few", "few", "many"]
    assert marker_radius(1) < marker_radius(9) < marker_radius(25) < marker_radius(60)
    assert marker_radius(1000) == marker_radius(60)

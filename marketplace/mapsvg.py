"""The district map (Kreiskarte) as a self-contained SVG string, drawn on the server.

Pure: plain data in, an SVG string out. No Flask, no database, no internet, no
JavaScript, no inline CSS (the Content-Security-Policy forbids inline styles;
everything is drawn with SVG presentation attributes). Reports reuse it.

Projection: equirectangular around the mean latitude (x = lon · cos φ₀, y = −lat),
scaled into the viewBox. For a district of ~50 km that is accurate to well under
one percent, which is all a map of dots needs.

Accessibility: the `<svg>` has `role="img"`, a `<title>` and a `<desc>`; every
municipality and every offer marker carries its own `<title>` (read as a tooltip
and by screen readers). All text is XML-escaped.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

#: Fill colours of the Sozialräume, assigned in the order the regions first appear (colour-blind safe).
REGION_COLOURS = ("#4e79a7", "#59a14f", "#b07aa1", "#e49444", "#76b7b2", "#d4a017", "#9c755f", "#8c8c8c")
#: Marker colours by free seats: none, few (1–2), enough (≥ 3).
FREE_COLOURS = {"none": "#a52a2a", "few": "#d08a1e", "many": "#2e6b3e"}
FREE_LABELS = {"none": "ausgebucht", "few": "1–2 Plätze frei", "many": "3 oder mehr Plätze frei"}

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif"


@dataclass(frozen=True)
class MapPlace:
    """A municipality: its name, centre point and Sozialraum (the colour key; None = grey)."""

    name: str
    lat: float
    lon: float
    region: str | None = None


@dataclass(frozen=True)
class MapMarker:
    """An offer on the map: where, its tooltip label, seats and free seats, an optional link."""

    lat: float
    lon: float
    label: str
    seats: int
    free: int
    href: str | None = None


def free_class(free: int) -> str:
    """The colour class of a marker: 'none', 'few' or 'many' free seats."""
    if free <= 0:
        return "none"
    return "few" if free <= 2 else "many"


def marker_radius(seats: int) -> float:
    """Marker radius in viewBox units: grows with the square root of the seats (area ∝ seats)."""
    return round(3.0 + 1.6 * math.sqrt(max(1, min(seats, 60))), 1)


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _fmt(value: float) -> str:
    return f"{value:.1f}"


class _Projection:
    """Equirectangular projection of lat/lon into a box of `width` × `height` with a margin."""

    def __init__(self, points: Sequence[tuple[float, float]], width: float, margin: float) -> None:
        lats = [p[0] for p in points] or [0.0]
        lons = [p[1] for p in points] or [0.0]
        self.k = math.cos(math.radians((min(lats) + max(lats)) / 2))
        self.min_x, self.max_x = min(lons) * self.k, max(lons) * self.k
        self.min_y, self.max_y = -max(lats), -min(lats)
        span_x = max(self.max_x - self.min_x, 1e-6)
        span_y = max(self.max_y - self.min_y, 1e-6)
        self.margin = margin
        self.scale = (width - 2 * margin) / max(span_x, span_y * 0.75)
        self.width = width
        self.height = span_y * self.scale + 2 * margin
        # centre horizontally when the district is taller than wide
        self.offset_x = (width - 2 * margin - span_x * self.scale) / 2

    def __call__(self, lat: float, lon: float) -> tuple[float, float]:
        x = self.margin + self.offset_x + (lon * self.k - self.min_x) * self.scale
        y = self.margin + (-lat - self.min_y) * self.scale
        return x, y


def _label_box(x: float, y: float, text: str, size: float, anchor: str) -> tuple[float, float, float, float]:
    width = 0.56 * size * len(text)
    left = x if anchor == "start" else x - width if anchor == "end" else x - width / 2
    return left, y - size * 0.8, left + width, y + size * 0.25


def _overlaps(box: tuple[float, float, float, float], boxes: list[tuple[float, float, float, float]]) -> bool:
    return any(not (box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3]) for b in boxes)


def _place_label(
    x: float, y: float, text: str, size: float, taken: list[tuple[float, float, float, float]], width: float
) -> tuple[float, float, str]:
    """Greedy label placement: right, left, above, below of the dot; the first free spot wins."""
    candidates = [
        (x + 6, y + size * 0.35, "start"),
        (x - 6, y + size * 0.35, "end"),
        (x, y - 7, "middle"),
        (x, y + size + 5, "middle"),
    ]
    for cx, cy, anchor in candidates:
        box = _label_box(cx, cy, text, size, anchor)
        if box[0] >= 2 and box[2] <= width - 2 and not _overlaps(box, taken):
            taken.append(box)
            return cx, cy, anchor
    cx, cy, anchor = candidates[0] if x < width * 0.7 else candidates[1]
    taken.append(_label_box(cx, cy, text, size, anchor))
    return cx, cy, anchor


def _spread(points: list[tuple[float, float]], radius: float) -> list[tuple[float, float]]:
    """Markers on the same spot are spread on a small ring so each stays visible and clickable."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, (x, y) in enumerate(points):
        groups[(round(x / 3), round(y / 3))].append(index)
    result = list(points)
    for members in groups.values():
        if len(members) < 2:
            continue
        ring = radius + 2.2 * len(members)
        for n, index in enumerate(members):
            angle = -math.pi / 2 + 2 * math.pi * n / len(members)
            x, y = points[index]
            result[index] = (x + ring * math.cos(angle), y + ring * math.sin(angle))
    return result


def district_map(
    places: Iterable[MapPlace],
    markers: Iterable[MapMarker] = (),
    *,
    title: str = "Karte des Landkreises",
    description: str | None = None,
    width: int = 800,
    id_prefix: str = "karte",
    show_legend: bool = True,
) -> str:
    """The district as an SVG: municipalities coloured by Sozialraum, offers as markers, a legend.

    Marker area grows with the offer's seats; its colour says how many seats are free.
    Markers with `href` are links. `id_prefix` keeps element ids unique when a page shows
    several maps. Returns a complete `<svg>` element (no XML declaration), ready to inline.
    """
    places = list(places)
    markers = list(markers)
    halo = max(18.0, min(46.0, width / 18))
    margin = halo + 8
    projection = _Projection([(p.lat, p.lon) for p in places] + [(m.lat, m.lon) for m in markers],
                             width, margin)
    regions: list[str] = []
    for place in places:
        if place.region is not None and place.region not in regions:
            regions.append(place.region)
    colour = {region: REGION_COLOURS[i % len(REGION_COLOURS)] for i, region in enumerate(regions)}

    legend_rows = (len(regions) + 1) // 2 if show_legend else 0
    legend_height = (48 + 22 * max(legend_rows, 3)) if show_legend else 0
    map_height = projection.height
    height = map_height + legend_height
    pid = _attr(id_prefix)
    if description is None:
        description = (f"{len(places)} Gemeinden in {len(regions)} Sozialräumen, "
                       f"{len(markers)} Angebote als Kreise: Größe nach Plätzen, Farbe nach freien Plätzen.")

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="district-map" viewBox="0 0 {width} {_fmt(height)}"'
        f' width="100%" role="img" aria-labelledby="{pid}-title {pid}-desc"'
        f' font-family="{_attr(FONT)}" font-size="12">',
        f'<title id="{pid}-title">{escape(title)}</title>',
        f'<desc id="{pid}-desc">{escape(description)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{_fmt(map_height)}" fill="#f8faf9" stroke="#d5dbde"/>',
    ]

    # Sozialraum areas: a soft halo around each municipality, in its region's colour.
    out.append('<g class="map-regions" aria-hidden="true">')
    for place in places:
        x, y = projection(place.lat, place.lon)
        fill = colour.get(place.region, "#bbbbbb") if place.region else "#bbbbbb"
        out.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(halo)}" fill="{fill}" fill-opacity="0.13"/>')
    out.append("</g>")

    # Municipalities: dot with tooltip; their labels are drawn last, above the markers.
    taken: list[tuple[float, float, float, float]] = []
    labels: list[str] = []
    out.append('<g class="map-places">')
    for place in sorted(places, key=lambda p: (-p.lat, p.lon)):
        x, y = projection(place.lat, place.lon)
        fill = colour.get(place.region, "#888888") if place.region else "#888888"
        lx, ly, anchor = _place_label(x, y, place.name, 11, taken, width)
        tip = place.name + (f" ({place.region})" if place.region else "")
        out.append(
            f'<g class="map-place"><title>{escape(tip)}</title>'
            f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="3.5" fill="{fill}" stroke="#ffffff" stroke-width="1"/></g>'
        )
        labels.append(
            f'<text x="{_fmt(lx)}" y="{_fmt(ly)}" text-anchor="{anchor}" font-size="11" fill="#1f2a30"'
            f' stroke="#f8faf9" stroke-width="3" stroke-opacity="0.85" paint-order="stroke">{escape(place.name)}</text>'
        )
    out.append("</g>")

    # Offers: larger first so that small markers stay on top and clickable.
    ordered = sorted(markers, key=lambda m: -m.seats)
    points = _spread([projection(m.lat, m.lon) for m in ordered], 8.0)
    out.append('<g class="map-offers">')
    for marker, (x, y) in zip(ordered, points, strict=True):
        cls = free_class(marker.free)
        seats_text = f"{marker.free} von {marker.seats} Plätzen frei"
        body = (
            f"<title>{escape(marker.label)}: {escape(seats_text)}</title>"
            f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(marker_radius(marker.seats))}"'
            f' fill="{FREE_COLOURS[cls]}" fill-opacity="0.85" stroke="#ffffff" stroke-width="1.5"/>'
        )
        if marker.href:
            out.append(f'<a class="map-offer map-offer-{cls}" href="{_attr(marker.href)}">{body}</a>')
        else:
            out.append(f'<g class="map-offer map-offer-{cls}">{body}</g>')
    out.append("</g>")
    # Labels on top (readable over markers) but transparent to the pointer (markers stay clickable).
    out.append('<g class="map-labels" aria-hidden="true" pointer-events="none">' + "".join(labels) + "</g>")

    if show_legend:
        out.append(_legend(regions, colour, map_height, width))
    out.append("</svg>")
    return "\n".join(out)


def _legend(regions: list[str], colour: dict[str, str], top: float, width: int) -> str:
    """Legend below the map: Sozialräume on the left, marker colours and sizes on the right."""
    parts = [f'<g class="map-legend" transform="translate(0 {_fmt(top)})">']
    parts.append('<text x="16" y="26" font-weight="600" fill="#1f2a30">Sozialräume</text>')
    for i, region in enumerate(regions):
        col, row = i % 2, i // 2
        x, y = 16 + col * 170, 48 + row * 22
        parts.append(
            f'<circle cx="{x + 6}" cy="{y - 4}" r="6" fill="{colour[region]}"/>'
            f'<text x="{x + 18}" y="{y}" fill="#34444c">{escape(region)}</text>'
        )
    right = max(360, width - 400)
    parts.append(f'<text x="{right}" y="26" font-weight="600" fill="#1f2a30">Angebote</text>')
    for i, cls in enumerate(("many", "few", "none")):
        y = 48 + i * 22
        parts.append(
            f'<circle cx="{right + 6}" cy="{y - 4}" r="6" fill="{FREE_COLOURS[cls]}"/>'
            f'<text x="{right + 18}" y="{y}" fill="#34444c">{escape(FREE_LABELS[cls])}</text>'
        )
    sx = right + 190
    parts.append(f'<text x="{sx}" y="40" fill="#34444c">Größe: Plätze</text>')
    for i, seats in enumerate((4, 10, 20)):
        r = marker_radius(seats)
        cx = sx + 12 + i * 48
        parts.append(
            f'<circle cx="{cx}" cy="{_fmt(70 - r)}" r="{_fmt(r)}" fill="none" stroke="#5b6870"/>'
            f'<text x="{cx}" y="88" text-anchor="middle" font-size="11" fill="#5b6870">{seats}</text>'
        )
    parts.append("</g>")
    return "".join(parts)

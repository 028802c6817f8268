"""Charts as self-contained SVG strings, drawn on the server (Diagramme): bars, columns, lines, a map.

Pure: plain data in, an `<svg>` string out. No Flask, no database, no internet, no
JavaScript, no inline CSS (the Content-Security-Policy forbids inline styles: everything
is drawn with SVG presentation attributes; `class` hooks let app.css adjust sizes).

Accessibility: every chart has `role="img"`, a `<title>` and a `<desc>` (the text
alternative, read by screen readers: what is shown and the extreme values), every bar
and point its own `<title>` with label and value. Pages show the table behind each chart
next to it. All text is XML-escaped.

`supply_demand_map` reuses the district map of `mapsvg` (municipalities by Sozialraum,
supply as markers) and adds the demand as rings centred on the municipality dots it drew.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from html import escape

from . import mapsvg

#: Series colours (colour-blind friendly, Tableau 10 order), the first is the app's primary colour.
PALETTE = ("#1d5c74", "#e49444", "#59a14f", "#b07aa1", "#76b7b2", "#d4a017", "#9c755f", "#e15759", "#8c8c8c")
FONT = mapsvg.FONT
TEXT = "#34444c"
MUTED = "#5b6870"
GRID = "#d5dbde"
DEMAND_COLOUR = "#6a3d9a"
#: A municipality dot of `mapsvg.district_map`: its tooltip (name and Sozialraum) and centre.
_PLACE_DOT = re.compile(r'<g class="map-place"><title>([^<]*)</title><circle cx="([-\d.]+)" cy="([-\d.]+)"')


@dataclass(frozen=True)
class Series:
    """One data series: a name for the legend and one value per label (None: no value)."""

    name: str
    values: Sequence[float | None]


def _a(value: object) -> str:
    return escape(str(value), quote=True)


def _f(value: float) -> str:
    return f"{value:.1f}"


def german_number(value: float, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def percent_text(value: float | None) -> str:
    return "–" if value is None else german_number(value * 100, 1) + " %"


def tick_text(fmt: Callable[[float | None], str]) -> Callable[[float | None], str]:
    """The format of axis labels: shares on whole percents without the decimal ("20 %", not "20,0 %")."""
    if fmt is not percent_text:
        return fmt

    def percent_tick(value: float | None) -> str:
        if value is not None and float(f"{value * 100:.9g}").is_integer():
            return german_number(value * 100, 0) + " %"
        return percent_text(value)

    return percent_tick


def number_text(value: float | None) -> str:
    if value is None:
        return "–"
    return german_number(value, 0 if float(value).is_integer() or abs(value) >= 100 else 1)


#: Mantissas of "nice" axis steps: 1, 2 and 5 × 10^k.
NICE_STEPS = (1, 2, 5)
#: Gridline steps an axis aims at (at most this many above 0).
TARGET_STEPS = 5
_NUMBER = re.compile(r"-?\d{1,3}(?:\.\d{3})+(?:,\d+)?|-?\d+(?:,\d+)?")


def _nice_steps(smallest: float) -> Iterator[float]:
    """Nice steps (1, 2, 5 × 10^k) in increasing order, from the first at or above `smallest` (> 0)."""
    exponent = math.floor(math.log10(smallest))
    while True:
        for mantissa in NICE_STEPS:
            step = float(f"{mantissa}e{exponent}")  # exact decimal: 2e-1, not 2 * 0.1
            if step >= smallest * (1 - 1e-9):
                yield step
        exponent += 1


def label_number(label: str) -> float | None:
    """The number a German tick label shows ("1.234,5 €" → 1234.5), or None when it shows none."""
    match = _NUMBER.search(label)
    return None if match is None else float(match.group().replace(".", "").replace(",", "."))


def _faithful(ticks: Sequence[float], fmt: Callable[[float | None], str]) -> bool:
    """True when `fmt` labels every tick differently, in increasing order, and with its exact value.

    The value is read back from the label and compared in the formatter's unit (what it shows for 1:
    "100,0 %" for a share); a label that rounds its tick ("0,1" for 0.05) is not faithful.
    """
    labels = [fmt(t) for t in ticks]
    if len(set(labels)) != len(labels):
        return False
    numbers = [label_number(label) for label in labels]
    unit = label_number(fmt(1.0))
    if unit is None or unit <= 0 or any(n is None for n in numbers):
        return True  # a format without numbers: unique labels are all we can ask
    return all(abs(n - t * unit) <= 1e-9 * max(1.0, abs(t * unit)) for n, t in zip(numbers, ticks, strict=True)) \
        and all(a < b for a, b in zip(numbers, numbers[1:], strict=False))  # type: ignore[operator]


def axis_ticks(max_value: float, fmt: Callable[[float | None], str], *, integer: bool = False,
               target: int = TARGET_STEPS) -> list[float]:
    """Gridline values from 0 to the axis end: nice steps (1, 2, 5 × 10^k), whole numbers when
    `integer` (counts), at most `target` steps, the last at or above `max_value`.

    The step grows until `fmt` labels every tick differently and exactly (a euro format without
    cents never shows "0 €, 0 €, 1 €"; see `_faithful`). An axis without positive values runs
    from 0 to 1.
    """
    top = max_value if math.isfinite(max_value) and max_value > 0 else 1.0
    steps = _nice_steps(max(top / target, 1.0 if integer else 1e-300))  # (1e-300: not below a float's range)
    ticks: list[float] = []
    for _attempt in range(1000):  # three steps per power of ten: from the smallest float up to 1e25
        step = next(steps)
        count = max(1, math.ceil(top / step - 1e-9))
        ticks = [float(f"{i * step:.12g}") for i in range(count + 1)]
        if _faithful(ticks, fmt):
            return ticks
    return ticks


def _integer_data(values: Sequence[float | None]) -> bool:
    return all(float(v).is_integer() for v in values if v is not None)


def _axis(values: Sequence[float | None], percent: bool,
          fmt: Callable[[float | None], str]) -> tuple[list[float], str | None]:
    """The ticks for `values` (percent axes run to at least 100 %) and a note for an empty chart."""
    present = [v for v in values if v is not None]
    highest = max(present, default=0.0)
    if percent:
        ticks = axis_ticks(max(highest, 1.0), fmt)
    else:
        ticks = axis_ticks(highest, fmt, integer=_integer_data(present))
    if not present:
        return ticks, "Keine Daten für diese Auswahl."
    if all(v == 0 for v in present):
        return ticks, "Alle Werte sind 0."
    return ticks, None


def _note(text: str | None, x: float, y: float) -> str:
    """A muted note in the middle of an empty plot."""
    if not text:
        return ""
    return (f'<text class="chart-note" x="{_f(x)}" y="{_f(y)}" text-anchor="middle" fill="{MUTED}">'
            f'{escape(text)}</text>')


def _open(kind: str, id_prefix: str, width: float, height: float, title: str, description: str) -> list[str]:
    pid = _a(id_prefix)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" viewBox="0 0 {_f(width)} {_f(height)}"'
        f' width="100%" role="img" aria-labelledby="{pid}-title {pid}-desc" font-family="{_a(FONT)}"'
        f' font-size="12">',
        f'<title id="{pid}-title">{escape(title)}</title>',
        f'<desc id="{pid}-desc">{escape(description)}</desc>',
    ]


def _legend(series: Sequence[Series], x: float, y: float, width: float) -> tuple[list[str], float]:
    """Legend items in rows from (x, y); returns the parts and the height used."""
    if len(series) < 2:
        return [], 0.0
    parts = ['<g class="chart-legend">']
    cx, cy = x, y
    for i, s in enumerate(series):
        item = 22 + 7.2 * len(s.name)
        if cx + item > x + width and cx > x:
            cx, cy = x, cy + 20
        parts.append(f'<rect x="{_f(cx)}" y="{_f(cy - 10)}" width="12" height="12" rx="2"'
                     f' fill="{PALETTE[i % len(PALETTE)]}"/>'
                     f'<text x="{_f(cx + 17)}" y="{_f(cy)}" fill="{TEXT}">{escape(s.name)}</text>')
        cx += item + 14
    parts.append("</g>")
    return parts, cy - y + 22


def _summary(labels: Sequence[str], series: Sequence[Series], fmt: Callable[[float | None], str]) -> str:
    """A sentence per series: its highest and lowest value (part of the text alternative)."""
    if not labels or not series:
        return "Keine Werte für diese Auswahl."
    sentences = []
    for s in series:
        pairs = [(v, label) for v, label in zip(s.values, labels, strict=False) if v is not None]
        if not pairs:
            sentences.append(f"{s.name}: keine Werte.")
            continue
        high = max(pairs, key=lambda p: p[0])
        low = min(pairs, key=lambda p: p[0])
        sentences.append(f"{s.name}: höchster Wert {fmt(high[0])} ({high[1]}), niedrigster {fmt(low[0])} ({low[1]}).")
    return " ".join(sentences)


def bar_chart(*, title: str, labels: Sequence[str], series: Sequence[Series], id_prefix: str,
              description: str = "", percent: bool = False, stacked: bool = False,
              fmt: Callable[[float | None], str] | None = None, width: int = 760) -> str:
    """Horizontal bars, one row per label (long labels stay readable); grouped or stacked series."""
    fmt = fmt or (percent_text if percent else number_text)
    label_width = min(260.0, max(80.0, 7.2 * max((len(label) for label in labels), default=4)))
    ticks, note = _axis(_plotted(labels, series, stacked), percent, tick_text(fmt))
    top_value = ticks[-1]
    # the last tick label is centred on the plot's right edge: keep room for its right half
    left, right, top = label_width + 16, max(24.0, _tick_width(tick_text(fmt)(top_value)) / 2 + 4), 12.0
    legend, legend_height = _legend(series, left, top + 10, width - left - right)
    top += legend_height
    band = 18.0 if stacked or len(series) == 1 else 12.0 * len(series) + 6
    plot_height = max(2 if note else 1, len(labels)) * (band + 8)  # an empty chart keeps room for its note
    height = top + plot_height + 34
    plot_width = width - left - right
    scale = plot_width / top_value
    desc = " ".join(filter(None, [description, _summary(labels, series, fmt)]))
    out = _open("bar", id_prefix, width, height, title, desc) + legend
    out.append('<g class="chart-grid" aria-hidden="true">')
    for tick in ticks:
        x = left + tick * scale
        out.append(f'<line x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" y2="{_f(top + plot_height)}" stroke="{GRID}"/>'
                   f'<text class="chart-tick" x="{_f(x)}" y="{_f(top + plot_height + 16)}" text-anchor="middle"'
                   f' fill="{MUTED}" font-size="11">{escape(tick_text(fmt)(tick))}</text>')
    out.append("</g>")
    for row, label in enumerate(labels):
        y = top + row * (band + 8) + 4
        out.append(f'<text x="{_f(left - 8)}" y="{_f(y + band / 2 + 4)}" text-anchor="end" fill="{TEXT}">'
                   f'{escape(_clip(label, int(label_width / 7.2)))}</text>')
        offset = 0.0
        for i, s in enumerate(series):
            value = s.values[row] if row < len(s.values) else None
            if value is None:
                continue
            length = max(0.0, value) * scale
            if stacked:
                x, bar_y, bar_h = left + offset, y, band
                offset += length
            else:
                x, bar_y, bar_h = left, y + i * (band / len(series)), band / len(series) - 2
            out.append(f'<rect class="chart-bar" x="{_f(x)}" y="{_f(bar_y)}" width="{_f(length)}"'
                       f' height="{_f(max(bar_h, 1))}" fill="{PALETTE[i % len(PALETTE)]}">'
                       f'<title>{escape(label)} – {escape(s.name)}: {escape(fmt(value))}</title></rect>')
            if not stacked and len(series) == 1:
                out.append(f'<text x="{_f(x + length + 5)}" y="{_f(bar_y + bar_h / 2 + 4)}" fill="{TEXT}"'
                           f' font-size="11">{escape(fmt(value))}</text>')
    out.append(f'<line x1="{_f(left)}" y1="{_f(top)}" x2="{_f(left)}" y2="{_f(top + plot_height)}"'
               f' stroke="{MUTED}"/>')
    out.append(_note(note, left + plot_width / 2, top + plot_height / 2 + 4))
    out.append("</svg>")
    return "\n".join(out)


def _plotted(labels: Sequence[str], series: Sequence[Series], stacked: bool) -> list[float | None]:
    """The values the axis must reach: each label's total when stacked, else every value (None: none)."""
    if not labels:
        return []
    if not stacked:
        return [v for s in series for v in s.values[:len(labels)]]
    columns = zip(*(list(s.values[:len(labels)]) for s in series), strict=False)
    return [None if all(v is None for v in col) else sum(max(0.0, v or 0) for v in col) for col in columns]


def _plot_frame(series: Sequence[Series], labels: Sequence[str], width: int, height: int, percent: bool,
                stacked: bool, fmt: Callable[[float | None], str],
                ) -> tuple[float, float, float, float, list[float], str | None, list[str], float]:
    ticks, note = _axis(_plotted(labels, series, stacked), percent, tick_text(fmt))
    # the tick labels stand left of the plot, right-aligned: room for the longest ("10.000 Std.")
    left = max(56.0, max(_tick_width(tick_text(fmt)(t)) for t in ticks) + 12)
    legend, legend_height = _legend(series, left, 20, width - left - 24)
    right, top, bottom = 16.0, 14.0 + legend_height, 40.0
    return left, right, top, bottom, ticks, note, legend, height - top - bottom


def _tick_width(label: str) -> float:
    """About how wide a tick label is drawn (11 px text; digits and most letters about 6.6 px)."""
    return 6.6 * len(label)


def _axes(out: list[str], labels: Sequence[str], left: float, top: float, plot_w: float, plot_h: float,
          ticks: Sequence[float], fmt: Callable[[float | None], str], step: float) -> None:
    top_value, label = ticks[-1], tick_text(fmt)
    out.append('<g class="chart-grid" aria-hidden="true">')
    for tick in ticks:
        y = top + plot_h - tick / top_value * plot_h
        out.append(f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(left + plot_w)}" y2="{_f(y)}" stroke="{GRID}"/>'
                   f'<text class="chart-tick" x="{_f(left - 6)}" y="{_f(y + 4)}" text-anchor="end"'
                   f' fill="{MUTED}" font-size="11">{escape(label(tick))}</text>')
    every = max(1, math.ceil(len(labels) * 46 / plot_w))  # skip labels that would collide
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = left + step * (i + 0.5)
        out.append(f'<text x="{_f(x)}" y="{_f(top + plot_h + 16)}" text-anchor="middle" fill="{MUTED}"'
                   f' font-size="11">{escape(label)}</text>')
    out.append("</g>")
    out.append(f'<line x1="{_f(left)}" y1="{_f(top + plot_h)}" x2="{_f(left + plot_w)}" y2="{_f(top + plot_h)}"'
               f' stroke="{MUTED}"/>')


def column_chart(*, title: str, labels: Sequence[str], series: Sequence[Series], id_prefix: str,
                 description: str = "", percent: bool = False, stacked: bool = False,
                 fmt: Callable[[float | None], str] | None = None, width: int = 760, height: int = 300) -> str:
    """Vertical columns, one slot per label (e.g. months); grouped or stacked series."""
    fmt = fmt or (percent_text if percent else number_text)
    left, right, top, _bottom, ticks, note, legend, plot_h = _plot_frame(series, labels, width, height, percent,
                                                                         stacked, fmt)
    top_value = ticks[-1]
    plot_w = width - left - right
    step = plot_w / max(1, len(labels))
    desc = " ".join(filter(None, [description, _summary(labels, series, fmt)]))
    out = _open("column", id_prefix, width, height, title, desc) + legend
    _axes(out, labels, left, top, plot_w, plot_h, ticks, fmt, step)
    inner = step * 0.7
    for i, label in enumerate(labels):
        base = top + plot_h
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else None
            if value is None:
                continue
            h = max(0.0, value) / top_value * plot_h
            if stacked:
                x, w = left + step * i + (step - inner) / 2, inner
                y = base - h
                base = y
            else:
                w = inner / len(series)
                x, y = left + step * i + (step - inner) / 2 + j * w, top + plot_h - h
            out.append(f'<rect class="chart-bar" x="{_f(x)}" y="{_f(y)}" width="{_f(max(w - 1, 1))}"'
                       f' height="{_f(h)}" fill="{PALETTE[j % len(PALETTE)]}">'
                       f'<title>{escape(label)} – {escape(s.name)}: {escape(fmt(value))}</title></rect>')
    out.append(_note(note, left + plot_w / 2, top + plot_h / 2))
    out.append("</svg>")
    return "\n".join(out)


def line_chart(*, title: str, labels: Sequence[str], series: Sequence[Series], id_prefix: str,
               description: str = "", percent: bool = False, fmt: Callable[[float | None], str] | None = None,
               width: int = 760, height: int = 280) -> str:
    """Lines over labels (a trend by month); gaps where a value is None."""
    fmt = fmt or (percent_text if percent else number_text)
    left, right, top, _bottom, ticks, note, legend, plot_h = _plot_frame(series, labels, width, height, percent,
                                                                         False, fmt)
    top_value = ticks[-1]
    plot_w = width - left - right
    step = plot_w / max(1, len(labels))
    desc = " ".join(filter(None, [description, _summary(labels, series, fmt)]))
    out = _open("line", id_prefix, width, height, title, desc) + legend
    _axes(out, labels, left, top, plot_w, plot_h, ticks, fmt, step)
    for j, s in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        points = [(left + step * (i + 0.5), top + plot_h - max(0.0, v) / top_value * plot_h, labels[i], v)
                  for i, v in enumerate(s.values[:len(labels)]) if v is not None]
        segments: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(s.values[:len(labels)]):
            if v is None:
                segments.append([])
            else:
                segments[-1].append((left + step * (i + 0.5), top + plot_h - max(0.0, v) / top_value * plot_h))
        for segment in segments:
            if len(segment) > 1:
                path = " ".join(f"{_f(x)},{_f(y)}" for x, y in segment)
                out.append(f'<polyline class="chart-line" points="{path}" fill="none" stroke="{colour}"'
                           f' stroke-width="2.5" stroke-linejoin="round"/>')
        for x, y, label, v in points:
            out.append(f'<circle class="chart-point" cx="{_f(x)}" cy="{_f(y)}" r="4" fill="{colour}"'
                       f' stroke="#ffffff" stroke-width="1.5"><title>{escape(label)} – {escape(s.name)}: '
                       f'{escape(fmt(v))}</title></circle>')
    out.append(_note(note, left + plot_w / 2, top + plot_h / 2))
    out.append("</svg>")
    return "\n".join(out)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


# --------------------------------------------------------------------------- the district map


@dataclass(frozen=True)
class TownFigures:
    """Supply and demand of one municipality: bookable groups, seats, free seats, waiting young people."""

    name: str
    lat: float
    lon: float
    region: str | None
    offers: int
    seats: int
    free: int
    waiting: int


def demand_radius(waiting: int, seats: int = 0) -> float:
    """Ring radius in viewBox units: always outside the town's supply marker, wider with more waiting."""
    inner = mapsvg.marker_radius(seats) if seats > 0 else 3.5
    return round(inner + 3.0 + 3.0 * math.sqrt(max(1, min(waiting, 80))), 1)


def supply_demand_map(towns: Sequence[TownFigures], *, title: str = "Angebot und Bedarf je Gemeinde",
                      id_prefix: str = "bedarfskarte", width: int = 800) -> str:
    """The district map with supply (markers: seats and free seats per municipality) and demand (rings)."""
    places = [mapsvg.MapPlace(t.name, t.lat, t.lon, t.region) for t in towns]
    markers = [mapsvg.MapMarker(t.lat, t.lon, f"{t.name}: {t.offers} buchbare Gruppen", t.seats, t.free)
               for t in towns if t.seats > 0]
    waiting = sum(t.waiting for t in towns)
    description = (f"{len(towns)} Gemeinden. Kreise zeigen das Angebot je Gemeinde (Größe nach Plätzen, Farbe nach "
                   f"freien Plätzen), violette Ringe um die Gemeinde den Bedarf ({waiting} wartende junge "
                   "Menschen; je weiter der Ring, desto mehr Wartende). " + _town_summary(towns))
    svg = mapsvg.district_map(places, markers, title=title, description=description, width=width,
                              id_prefix=id_prefix)
    # the rings sit on the municipality dots the map drew (read back, so they follow its projection)
    dots = {match.group(1): (float(match.group(2)), float(match.group(3))) for match in _PLACE_DOT.finditer(svg)}
    rings = ['<g class="map-demand">']
    for t in sorted(towns, key=lambda t: -t.waiting):
        tip = escape(t.name + (f" ({t.region})" if t.region else ""))
        if t.waiting <= 0 or tip not in dots:
            continue
        x, y = dots[tip]
        rings.append(f'<g class="map-demand-town"><title>{escape(t.name)}: {t.waiting} wartende junge Menschen'
                     f'</title><circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(demand_radius(t.waiting, t.seats))}"'
                     f' fill="none" stroke="{DEMAND_COLOUR}" stroke-width="2.5" stroke-dasharray="5 3"/></g>')
    rings.append("</g>")
    for anchor in ('<g class="map-labels"', '<g class="map-legend"', "</svg>"):
        head, found, tail = svg.rpartition(anchor)
        if found:
            return head + "\n".join(rings) + "\n" + anchor + tail
    return svg


def _town_summary(towns: Sequence[TownFigures]) -> str:
    waiting = sorted((t for t in towns if t.waiting), key=lambda t: -t.waiting)[:3]
    if not waiting:
        return "Niemand wartet."
    return "Die meisten Wartenden: " + ", ".join(f"{t.name} ({t.waiting}, {t.free} Plätze frei)" for t in waiting) \
        + "."

"""The report pages fit the window on laptop and tablet-landscape screens: nothing sticks out on the
right (no horizontal page scrolling), and no report table is cut off.

Every report page, in every grouping, at 1280 × 800 and 1024 × 768 in Debian's Chromium:
- the page is never wider than the window, and no element reaches beyond it (unless inside a
  scrolling frame, which clips it);
- at 1280 px every report table fits without sideways scrolling; at 1024 px the tables beside a
  chart do, while the widest tables (eleven and more columns) may scroll inside their own frame,
  their first column staying in view.
Screenshots go to test-artifacts/berichte-layout-<width>-<page>.png.
"""

from __future__ import annotations

import pytest

from marketplace.reports.pages import OPTIONS

from .journey import login, watch

pytestmark = pytest.mark.e2e

VIEWPORTS = [(1280, 800), (1024, 768)]
PAGES = (["", "auslastung", "bedarf", "modulstunden", "traegeruebergreifend", "abnahme"]
         + [f"{key}?nach={option}" for key, (options, _default) in OPTIONS.items() for option in options])

#: Elements whose right edge lies beyond the viewport, outside any scrolling container (which clips them).
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) return true;
    }
    return false;
  };
  return [...document.body.querySelectorAll("*")]
    .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.right > width + 0.5; })
    .filter((el) => !clipped(el))
    .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")} right=${Math.round(
      el.getBoundingClientRect().right)}`)
    .slice(0, 10);
}"""

#: Report tables (all, or those beside a chart) that need sideways scrolling (cut off until one scrolls).
SCROLLING_TABLES = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.scrollWidth > el.clientWidth + 1)
  .map((el) => `${el.querySelector("caption")?.textContent}: ${el.scrollWidth} > ${el.clientWidth}`)"""
#: Which tables must fit without scrolling, per window width.
MUST_FIT = {1280: ".report-table", 1024: ".report-section-beside .report-table"}


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_report_pages_fit_the_window(live_server, chromium, artifacts, width, height):
    context = chromium.new_context(locale="de-DE", viewport={"width": width, "height": height})
    page = context.new_page()
    problems = watch(page)
    try:
        login(page, live_server, "planung@jugendamt.example")
        failures = []
        for path in PAGES:
            page.goto(f"{live_server}/berichte/{path}")
            page.wait_for_load_state("load")
            name = path.replace("?nach=", "-") or "uebersicht"
            page.screenshot(path=str(artifacts / f"berichte-layout-{width}-{name}.png"), full_page=True)
            scroll_width, inner_width = page.evaluate(
                "() => [document.documentElement.scrollWidth, window.innerWidth]")
            if scroll_width > inner_width:
                failures.append(f"{path or 'Übersicht'}: page {scroll_width} px wide in a {inner_width} px window")
            failures += [f"{path}: {item}" for item in page.evaluate(OVERFLOWING)]
            failures += [f"{path}: table scrolls: {item}"
                         for item in page.evaluate(SCROLLING_TABLES, MUST_FIT[width])]
        assert not failures, "\n".join(failures)
        assert problems == [], problems
    finally:
        context.close()

"""German display formats (marketplace.web.filters)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from marketplace.web.filters import (
    breakable_de,
    date_de,
    datetime_de,
    euro,
    hours_de,
    month_de,
    number_de,
    time_de,
    weekday_de,
)

NBSP = "\u00a0"


def test_euro_from_cents():
    assert euro(123450) == f"1.234,50{NBSP}€"
    assert euro(5) == f"0,05{NBSP}€"
    assert euro(-200) == f"-2,00{NBSP}€"
    assert euro(123456789) == f"1.234.567,89{NBSP}€"
    assert euro(None) == "–"


def test_numbers():
    assert number_de(1234567) == "1.234.567"
    assert number_de(1234.5, 1) == "1.234,5"
    assert number_de(0) == "0"
    assert number_de(-0.001, 2) == "0,00"
    assert hours_de(2) == f"2{NBSP}Std." and hours_de(1.5) == f"1,5{NBSP}Std."


def test_dates_and_times_in_berlin():
    winter = datetime(2025, 1, 15, 13, 5, tzinfo=UTC)
    summer = datetime(2025, 7, 1, 22, 30, tzinfo=UTC)
    assert datetime_de(winter) == f"15.01.2025, 14:05{NBSP}Uhr"
    assert datetime_de(summer) == f"02.07.2025, 00:30{NBSP}Uhr"  # next day in Berlin
    assert date_de(summer) == "02.07.2025"
    assert date_de(date(2025, 3, 5)) == "05.03.2025"
    assert datetime_de(datetime(2025, 1, 15, 13, 5)) == f"15.01.2025, 14:05{NBSP}Uhr"  # naive = UTC
    assert time_de(time(9, 0)) == "09:00"
    assert weekday_de(0) == "Montag" and weekday_de(date(2025, 3, 9), short=True) == "So"
    assert month_de(date(2025, 3, 1)) == "März 2025"


def test_table_headings_may_break_inside_long_compounds():
    assert breakable_de("Belegungsquote") == "Belegungs\u00adquote"
    assert breakable_de("Teilnehmendenstunden") == "Teilnehmenden\u00adstunden"
    assert breakable_de("Alter/Geschlecht") == "Alter/\u200bGeschlecht"
    assert breakable_de("freie Plätze") == "freie Plätze"  # short words stay whole
    assert breakable_de(None) == ""
    assert all(breakable_de(w).replace("\u00ad", "").replace("\u200b", "") == w
               for w in ("Platzmonate", "Mindestgröße", "Monatsabschluss", "Anteil"))

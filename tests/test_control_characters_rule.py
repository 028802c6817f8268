"""The control-character rule shared by forms, query strings and uploads (marketplace.control_characters)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from marketplace.control_characters import any_control_characters, has_control_characters

REFUSED = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]]


def test_every_refused_character_is_found_anywhere_in_a_text() -> None:
    for char in REFUSED:
        assert has_control_characters(char)
        assert has_control_characters(f"Gruppe{char}Nord")
    assert any_control_characters(["gut", "auch gut", f"schlecht{chr(0)}"])


def test_tab_line_breaks_and_ordinary_unicode_are_allowed() -> None:
    for text in ["", "Zeile 1\r\nZeile 2\tTab", "äöü ß € „Zitat“ ✓ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\u00a0geschützt", "\u202eRTL"]:
        assert not has_control_characters(text)
    assert not any_control_characters([])


@given(st.text(st.characters(blacklist_categories=["Cc"])))
def test_text_without_control_characters_passes(text: str) -> None:
    assert not has_control_characters(text)
    assert not has_control_characters(text + "\t\n\r")

"""The time-zone helper and the text helpers every card and list uses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.clean import clean_payload, clean_text
from bot.errors import UserFacingError
from bot.timezones import parse_timezone, search_timezones, suggest_timezones
from bot.ui.text import ELLIPSIS, safe_text, shorten
from bot.wording import plural


def test_zone_names_are_case_insensitive_and_canonical() -> None:
    assert parse_timezone("europe/london").key == "Europe/London"
    assert parse_timezone(" America/New York ").key == "America/New_York"


def test_unknown_zone_suggests_close_names() -> None:
    with pytest.raises(UserFacingError) as caught:
        parse_timezone("America/New_Yrok")
    assert "America/New_York" in str(caught.value)
    assert "Australia/Lord_Howe" in suggest_timezones("Lord Howe")


def test_autocomplete_prefers_city_prefixes_and_caps_at_25() -> None:
    assert search_timezones("lond")[0] == "Europe/London"
    assert len(search_timezones("a")) == 25
    assert all("posix/" not in name for name in search_timezones(""))


@given(st.text(max_size=300), st.integers(min_value=1, max_value=200))
def test_shorten_never_exceeds_the_limit(text: str, limit: int) -> None:
    result = shorten(text, limit)
    assert len(result) <= limit
    if len(text.strip()) <= limit:
        assert result == text.strip()
    else:
        assert result.endswith(ELLIPSIS) or limit <= len(ELLIPSIS)


def test_shorten_cuts_at_a_word() -> None:
    assert (
        shorten("Teaching with primary sources in the classroom", 30)
        == "Teaching with primary sources…"
    )


def test_safe_text_cannot_ping_or_break_markdown() -> None:
    cleaned = safe_text("@everyone look **here** <@&123456789012345678> @here")
    assert "@everyone" not in cleaned and "@here" not in cleaned
    assert "<@&123456789012345678>" not in cleaned
    assert "\\*\\*here\\*\\*" in cleaned


def test_counts_read_right_in_the_singular_and_the_plural() -> None:
    assert plural(1, "topic") == "1 topic"
    assert plural(0, "follower") == "0 followers"
    assert plural(2, "reply", "replies") == "2 replies"
    assert plural(12_500, "share") == "12,500 shares"


def test_clean_text_drops_control_characters_but_keeps_lines_and_tabs() -> None:
    assert clean_text("a\x00b\x07c\x1b[1md\x7fe\x85f\x9fg") == "abc[1mdefg"
    assert clean_text("one\ttwo\nthree\r\nfour\rfive") == "one\ttwo\nthree\nfour\nfive"
    assert clean_text("half a pair \ud83d here") == "half a pair  here"
    plain = "Ünïcödé stays: 🎉 \u200b zero-width and all"
    assert clean_text(plain) is plain  # nothing to do: the very same string


@given(st.text())
def test_clean_text_leaves_nothing_a_database_refuses(text: str) -> None:
    cleaned = clean_text(text)
    assert "\x00" not in cleaned and "\r" not in cleaned
    assert all(ch in "\t\n" or not (ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F) for ch in cleaned)
    cleaned.encode("utf-8")  # no lone surrogate left
    assert clean_text(cleaned) == cleaned


def test_clean_payload_cleans_every_string_of_nested_options_in_place() -> None:
    data = {
        "name": "prompt",
        "options": [{"name": "add", "type": 1, "options": [{"name": "text", "value": "hi\x00"}]}],
        "resolved": {"messages": {"1": {"content": "see\x00 https://a.example"}}},
    }
    assert clean_payload(data) is data
    assert data["options"][0]["options"][0]["value"] == "hi"  # type: ignore[index]
    assert data["resolved"]["messages"]["1"]["content"] == "see https://a.example"  # type: ignore[index]

"""The time-zone helper and the text helpers every card and list uses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

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

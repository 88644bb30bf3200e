"""Names, channel names, tags and caps: pure rules, no database."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import UserFacingError
from bot.tags import normalise_tags
from bot.topics import rules


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Project Based Learning", "project-based-learning"),
        ("  AI   in  Class ", "ai-in-class"),
        ("Maths & Science!", "maths-science"),
        ("Éducation numérique", "éducation-numérique"),
        ("K-12 / EdTech", "k-12-edtech"),
    ],
)
def test_channel_name_is_a_valid_discord_channel_name(name: str, expected: str) -> None:
    assert rules.channel_name(name) == expected


def test_names_without_letters_are_refused() -> None:
    with pytest.raises(UserFacingError, match="no letters or digits"):
        rules.clean_name("!!! ???")


def test_name_length_limits() -> None:
    assert rules.clean_name("x" * 100) == "x" * 100
    with pytest.raises(UserFacingError, match="at most 100"):
        rules.clean_name("x" * 101)
    with pytest.raises(UserFacingError, match="needs a name"):
        rules.clean_name("   ")


def test_names_cannot_carry_mentions() -> None:
    with pytest.raises(UserFacingError):
        rules.clean_name("@everyone")


def test_name_key_ignores_case_and_spacing() -> None:
    assert rules.name_key("Project  Based") == rules.name_key("project based")


def test_tags_are_normalised() -> None:
    assert rules.parse_tags("#AI, pedagogy  ai k-12") == ("ai", "pedagogy", "k-12")
    assert rules.parse_tags(None) == ()
    with pytest.raises(UserFacingError):
        rules.parse_tags("bad/tag")
    with pytest.raises(UserFacingError, match="at most 10"):
        rules.parse_tags(" ".join(f"t{i}" for i in range(11)))


def test_emoji() -> None:
    assert rules.clean_emoji(" 📚 ") == "📚"
    assert rules.clean_emoji("<:pln:123456789012345678>") == "<:pln:123456789012345678>"
    assert rules.clean_emoji("") is None
    with pytest.raises(UserFacingError):
        rules.clean_emoji("books")


def test_caps_refuse_near_the_limits() -> None:
    rules.check_caps(channels=400, roles=100)
    with pytest.raises(UserFacingError, match="500"):
        rules.check_caps(channels=495, roles=10)
    with pytest.raises(UserFacingError, match="250"):
        rules.check_caps(channels=10, roles=245)


def test_pages() -> None:
    assert [rules.pages(n) for n in (0, 1, 25, 26, 100)] == [1, 1, 1, 2, 4]


@settings(max_examples=200)
@given(st.text(min_size=1, max_size=100))
def test_any_accepted_name_gives_a_valid_channel_name(name: str) -> None:
    try:
        cleaned = rules.clean_name(name)
    except UserFacingError:
        return
    slug = rules.channel_name(cleaned)
    assert 1 <= len(slug) <= 100
    assert slug == slug.lower()
    assert re.fullmatch(r"[\w-]+", slug)
    assert not slug.startswith("-")


@given(st.text(alphabet=st.characters(categories=["L", "N", "P", "Zs"]), max_size=120))
@settings(max_examples=300, deadline=None)
def test_a_topics_default_tags_are_always_valid_library_tags(text: str) -> None:
    try:
        topic_tags = rules.parse_tags(text)
    except UserFacingError:
        return
    # What a topic accepts, the library stores unchanged when the channel becomes a capture one.
    assert tuple(normalise_tags(topic_tags)) == topic_tags


def test_a_37_character_tag_is_refused_for_topics_as_for_the_library() -> None:
    with pytest.raises(UserFacingError, match="at most 32 characters"):
        rules.parse_tags("a" * 37)

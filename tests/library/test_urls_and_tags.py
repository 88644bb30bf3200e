"""The community URL rules and tag rules: pure functions, no database."""

from __future__ import annotations

import pytest

from bot.errors import UserFacingError
from bot.library.urls import canonical_url, find_links, is_capturable, parse_link
from bot.tags import normalise_tag, parse_tags


@pytest.mark.parametrize(
    ("shared", "canonical"),
    [
        ("HTTP://Example.COM:80/a/b/", "http://example.com/a/b"),
        ("https://www.example.com:443/", "https://example.com/"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/page#section", "https://example.com/page"),
        ("https://example.com/?b=2&a=1", "https://example.com/?a=1&b=2"),
        (
            "https://example.com/x?utm_source=news&utm_medium=mail&id=7&fbclid=abc&gclid=1",
            "https://example.com/x?id=7",
        ),
        (
            "https://example.com/x?mc_cid=1&mc_eid=2&igshid=3&si=4&ref_src=5&xtor=6",
            "https://example.com/x",
        ),
        ("https://example.com:8080/x", "https://example.com:8080/x"),
        ("https://youtu.be/dQw4w9WgXcQ?si=abc", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
        (
            "https://m.youtube.com/watch?v=dQw4w9WgXcQ&t=3",
            "https://youtube.com/watch?v=dQw4w9WgXcQ",
        ),
        ("https://www.youtube.com/shorts/dQw4w9WgXcQ", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
        (
            "https://youtube.com/watch?feature=share&v=dQw4w9WgXcQ",
            "https://youtube.com/watch?v=dQw4w9WgXcQ",
        ),
        ("https://youtube.com/@channel", "https://youtube.com/@channel"),
        ("https://exämple.org/päge", "https://xn--exmple-cua.org/p%C3%A4ge"),
    ],
)
def test_canonical_forms(shared: str, canonical: str) -> None:
    assert canonical_url(shared) == canonical


def test_forms_of_one_link_collapse() -> None:
    forms = [
        "https://example.com/article/",
        "HTTPS://WWW.EXAMPLE.COM/article?utm_campaign=x",
        "https://example.com/article#comments",
        "https://example.com:443/article",
    ]
    assert len({canonical_url(form) for form in forms}) == 1


@pytest.mark.parametrize(
    "bad",
    [
        "not a url",
        "javascript:alert(1)",
        "data:text/html,hi",
        "ftp://example.com/file",
        "https://",
        "https://exa mple.com/",
        "https://example.com:99999/",
        "https://example.com/" + "a" * 2048,
        "",
    ],
)
def test_bad_links_are_refused(bad: str) -> None:
    with pytest.raises(UserFacingError):
        parse_link(bad)


def test_parse_link_keeps_the_original_and_domain() -> None:
    link = parse_link(" <https://www.Example.com/a?utm_source=x> ")
    assert link.original == "https://www.Example.com/a?utm_source=x"
    assert link.canonical == "https://example.com/a"
    assert link.domain == "example.com"


def test_find_links_skips_code_and_trailing_punctuation() -> None:
    text = (
        "See https://a.example/x. and (https://b.example/y) but `https://c.example` and\n"
        "```\nhttps://d.example\n```\nhttps://en.wikipedia.org/wiki/Foo_(bar), https://a.example/x"
    )
    assert find_links(text) == [
        "https://a.example/x",
        "https://b.example/y",
        "https://en.wikipedia.org/wiki/Foo_(bar)",
    ]


def test_capture_skips_discord_gif_and_ignored_hosts() -> None:
    assert not is_capturable("discord.com")
    assert not is_capturable("cdn.discordapp.com")
    assert not is_capturable("media.tenor.com")
    assert not is_capturable("giphy.com")
    assert not is_capturable("news.spam.example", frozenset({"spam.example"}))
    assert is_capturable("edutopia.org", frozenset({"spam.example"}))


def test_tags_are_normalised() -> None:
    assert parse_tags("#Math, K-12  science,math") == ["math", "k-12", "science"]
    assert normalise_tag("  Project Based  ") == "project-based"
    assert parse_tags("c++ node.js under_score élève") == ["c++", "node.js", "under_score", "élève"]
    assert parse_tags(None) == [] and parse_tags(" , ") == []


@pytest.mark.parametrize(
    "bad", ["a" * 33, "no/slash", "semi;colon", "@everyone", ",".join("abcdefghijk")]
)
def test_bad_tags_are_refused(bad: str) -> None:
    with pytest.raises(UserFacingError):
        parse_tags(bad)


def test_since_periods_and_dates() -> None:
    from datetime import UTC, datetime, timedelta

    from bot.library.search import parse_query, parse_since

    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2 weeks", now) == now - timedelta(days=14)
    assert parse_since("1y", now) == now - timedelta(days=365)
    assert parse_since("2026-01-31", now) == datetime(2026, 1, 31, tzinfo=UTC)
    for bad in ("yesterday", "7x", "2026-13-01", ""):
        with pytest.raises(UserFacingError):
            parse_since(bad, now)
    words = parse_query('"Fract* AND (pizza) OR NEAR/2 -x col:umn Fract*')
    assert [(w.word, w.prefix) for w in words] == [
        ("fract", True),
        ("and", False),
        ("pizza", False),
        ("or", False),
        ("near", False),
        ("2", False),
        ("x", False),
        ("col", False),
    ]

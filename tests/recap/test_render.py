"""The renderer against every embed and message limit, with hypothesis-generated weeks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.recap.ranking import FORMULA
from bot.recap.records import (
    Contributor,
    RecapEntry,
    RecapView,
    TopicSection,
    WeekNumbers,
)
from bot.recap.window import week_ending
from cogs.recap.render import entry_text, render, render_digest

SLOT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
nasty = st.lists(
    st.sampled_from([*"ab cdé*_`~|>[]()@#<&:!\\\n", "@everyone", "@here", "<@&1>"]),
    max_size=120,
).map("".join)
words = st.text(min_size=0, max_size=400)
ids = st.integers(min_value=1, max_value=2**63 - 1)


@st.composite
def entries(draw: st.DrawFn, rank: int) -> RecapEntry:
    return RecapEntry(
        rank=rank,
        resource_id=draw(ids),
        title=draw(st.one_of(nasty, words)),
        url=draw(
            st.one_of(
                st.just("https://example.org/a (b)"),
                st.text(max_size=2048).map(lambda t: "https://x.example/" + t),
            )
        ),
        domain=draw(st.text(max_size=255)),
        tags=tuple(draw(st.lists(st.text(min_size=1, max_size=32), max_size=12))),
        sharers=draw(st.integers(1, 10**6)),
        engagement=draw(st.integers(0, 10**6)),
        first_sharer_id=draw(ids),
        first_sharer_name=draw(st.one_of(nasty, st.text(max_size=100))),
        channel_id=draw(ids),
        message_id=draw(st.one_of(st.none(), ids)),
        first_shared_at=SLOT - timedelta(days=1),
    )


@st.composite
def weeks(draw: st.DrawFn) -> RecapView:
    top = draw(st.integers(0, 25))
    topics = draw(st.integers(0, 30))
    return RecapView(
        guild_id=draw(ids),
        week=week_ending(SLOT, "UTC"),
        top_n=max(top, 1),
        entries=tuple(draw(entries(i + 1)) for i in range(top)),
        topics=tuple(
            TopicSection(
                i,
                draw(st.text(min_size=1, max_size=100)),
                tuple(draw(entries(r + 1)) for r in range(draw(st.integers(1, 3)))),
            )
            for i in range(topics)
        ),
        numbers=WeekNumbers(
            links_shared=draw(st.integers(0, 10**6)),
            new_sharers=draw(st.integers(0, 10**5)),
            new_topics=tuple(draw(st.lists(st.text(max_size=100), max_size=60))),
            chats=tuple(
                draw(st.lists(st.tuples(st.text(max_size=200), st.text(max_size=300)), max_size=20))
            ),
        ),
        contributors=tuple(
            Contributor(draw(ids), draw(st.one_of(nasty, st.text(max_size=100))), n)
            for n in draw(st.lists(st.integers(1, 10**5), max_size=5))
        ),
    )


def _texts(embed: discord.Embed) -> list[str]:
    data = embed.to_dict()
    texts = [data.get("title", ""), data.get("description", "")]
    texts += [f["name"] + f["value"] for f in data.get("fields", [])]
    texts.append(data.get("footer", {}).get("text", ""))
    return texts


def assert_within_limits(parts: list) -> None:  # type: ignore[type-arg]
    assert parts
    for part in parts:
        assert part.content is None or len(part.content) <= 2000
        assert 1 <= len(part.embeds) <= 10
        assert sum(len(e) for e in part.embeds) <= 6000
        for embed in part.embeds:
            data = embed.to_dict()
            assert len(data.get("title", "")) <= 256
            assert len(data.get("description", "")) <= 4096
            assert len(data.get("fields", [])) <= 25
            for field in data.get("fields", []):
                assert len(field["name"]) <= 256 and len(field["value"]) <= 1024
            assert len(data.get("footer", {}).get("text", "")) <= 2048
            assert len(embed) <= 6000
            for text in _texts(embed):
                assert "@everyone" not in text and "@here" not in text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weeks())
def test_any_week_renders_within_every_discord_limit(view: RecapView) -> None:
    parts = render(view)
    assert_within_limits(parts)
    description = "\n".join(e.description or "" for p in parts for e in p.embeds)
    for entry in view.entries:
        assert f"**{entry.rank}. " in description
    assert parts[-1].embeds[-1].footer.text == FORMULA
    again = [[e.to_dict() for e in p.embeds] for p in render(view)]
    assert again == [[e.to_dict() for e in p.embeds] for p in parts]


@settings(max_examples=30, deadline=None)
@given(st.lists(entries(1), max_size=25), st.text(max_size=100))
def test_any_digest_renders_within_every_discord_limit(
    items: list[RecapEntry], guild_name: str
) -> None:
    assert_within_limits(render_digest(1, guild_name, items))


def test_long_title_is_cut_at_a_word_with_an_ellipsis() -> None:
    entry = RecapEntry(
        rank=1,
        resource_id=1,
        title="word " * 100,
        url="https://example.org/x",
        domain="example.org",
        tags=("math",),
        sharers=4,
        engagement=3,
        first_sharer_id=7,
        first_sharer_name="Ada",
        channel_id=2,
        message_id=3,
        first_shared_at=SLOT,
    )
    text = entry_text(9, entry)
    link_text = text.split("](")[0]
    assert link_text.endswith("word…")
    assert "shared by 4 members · 3 ⭐" in text
    assert "[first by Ada](https://discord.com/channels/9/2/3)" in text
    assert "<@7>" not in text

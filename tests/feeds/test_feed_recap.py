"""The weekly recap's "From your feeds": feed items members voted on and saved, never counted as
members' shares. Both backends."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.library.service import LibraryService
from bot.recap.service import RecapService
from bot.topics.service import TopicService
from cogs.recap.render import render

GUILD = 1
BOT, ALICE, BOB = 900, 11, 12


async def test_liked_feed_items_get_their_own_recap_section(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    library = LibraryService(sessions, clock)
    recap = RecapService(sessions, clock, TopicService(sessions, clock))
    clock.advance(-timedelta(days=2))
    liked = await library.share(
        GUILD,
        5,
        BOT,
        "https://blog.example/liked",
        title="A liked feed item",
        guild_name="g",
        member_is_bot=True,
        message_id=7001,
        source="feed",
    )
    await library.share(
        GUILD,
        5,
        BOT,
        "https://blog.example/ignored",
        title="Nobody liked this",
        member_is_bot=True,
        message_id=7002,
        source="feed",
    )
    await library.share(GUILD, 5, ALICE, "https://member.example/a", title="Alice's link")
    await library.add_reaction(GUILD, 7001, ALICE, "⭐")
    await library.add_reaction(GUILD, 7001, BOB, "👍")
    await library.save(GUILD, liked.resource.id, BOB)
    clock.advance(timedelta(days=2))
    await recap.configure(GUILD, "g", 9, channel_id=55)

    view = await recap.preview(GUILD)
    assert [e.title for e in view.entries] == ["Alice's link"]  # feeds are no member shares
    assert [(e.title, e.engagement) for e in view.feeds] == [("A liked feed item", 3)]
    stored = await recap.prepare(GUILD, clock.now(), trigger="manual")
    assert stored.feeds == view.feeds
    text = "\n".join(
        f"{embed.title}\n{embed.description}" for part in render(stored) for embed in part.embeds
    )
    assert "From your feeds" in text and "A liked feed item" in text
    assert "Nobody liked this" not in text

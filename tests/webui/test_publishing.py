"""Publishing a library: its slug, who may see it, and how fast every process notices."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.guilds.service import GuildService
from bot.webui.publishing import SLUG_SECONDS, PublishingService

GUILD, OTHER_GUILD, MOD = 1001, 2002, 503


async def test_each_guild_gets_its_own_unguessable_slug_kept_across_republishing(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    publishing = PublishingService(sessions, clock)
    ours = await publishing.publish(GUILD, "Maple", MOD, published=True, include_names=True)
    theirs = await publishing.publish(
        OTHER_GUILD, "Birch", MOD, published=True, include_names=False
    )
    assert ours.slug != theirs.slug and len(ours.slug) == 16
    assert str(GUILD) not in ours.slug
    found = await publishing.by_slug(ours.slug)
    assert found is not None and found.guild_id == GUILD and found.guild_name == "Maple"
    assert found.include_names

    off = await publishing.publish(GUILD, "Maple", MOD, published=False, include_names=True)
    assert not off.published and not off.include_names
    assert await publishing.by_slug(ours.slug) is None
    again = await publishing.publish(GUILD, "Maple", MOD, published=True, include_names=False)
    assert again.slug == ours.slug
    log = await GuildService(sessions, clock).audit_log(GUILD)
    assert [e.action for e in log][:3] == ["site.publish", "site.unpublish", "site.publish"]


async def test_another_process_sees_unpublishing_within_a_second(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    moderators_process = PublishingService(sessions, clock)
    web_process = PublishingService(sessions, clock)
    pub = await moderators_process.publish(GUILD, "Maple", MOD, published=True, include_names=False)
    assert await web_process.by_slug(pub.slug) is not None
    await moderators_process.publish(GUILD, "Maple", MOD, published=False, include_names=False)
    clock.advance(timedelta(seconds=SLUG_SECONDS))
    assert await web_process.by_slug(pub.slug) is None
    assert await web_process.by_slug("no-such-slug") is None
    assert await web_process.by_slug("x" * 200) is None


async def test_a_guild_the_bot_left_shows_nothing(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    publishing = PublishingService(sessions, clock)
    pub = await publishing.publish(GUILD, "Maple", MOD, published=True, include_names=False)
    await GuildService(sessions, clock).mark_left(GUILD)
    clock.advance(timedelta(seconds=SLUG_SECONDS))
    assert await publishing.by_slug(pub.slug) is None

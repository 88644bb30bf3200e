"""Guild settings, members seen and the audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.service import GuildService

GUILD, OTHER_GUILD, MOD = 111, 222, 9


async def test_new_guild_has_utc_and_nothing_set(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    settings = await GuildService(sessions, clock).settings(GUILD)
    assert (settings.timezone, settings.moderator_role_id, settings.log_channel_id) == (
        "UTC",
        None,
        None,
    )


async def test_settings_persist_and_are_audited(sessions: SessionFactory, clock: FakeClock) -> None:
    service = GuildService(sessions, clock)
    await service.update_settings(
        GUILD, "PLN", MOD, timezone="america/new_york", moderator_role_id=42, log_channel_id=77
    )
    clock.advance(timedelta(minutes=5))
    await service.update_settings(GUILD, "PLN", MOD, log_channel_id=None)

    settings = await GuildService(sessions, clock).settings(GUILD)
    assert settings.timezone == "America/New_York"  # stored in its canonical spelling
    assert settings.moderator_role_id == 42
    assert settings.log_channel_id is None
    log = await service.audit_log(GUILD)
    assert [entry.action for entry in log] == ["settings.update", "settings.update"]
    assert log[0].details == {"before": {"log_channel_id": 77}, "after": {"log_channel_id": None}}
    assert log[0].created_at - log[1].created_at == timedelta(minutes=5)
    assert log[0].created_at.tzinfo is not None


async def test_unknown_time_zone_changes_nothing(
    sessions: SessionFactory, clock: FakeClock
) -> None:
    service = GuildService(sessions, clock)
    await service.update_settings(GUILD, "PLN", MOD, timezone="Europe/London")
    with pytest.raises(UserFacingError, match=r"Did you mean .*Europe/London"):
        await service.update_settings(
            GUILD, "PLN", MOD, timezone="Europe/Londn", moderator_role_id=5
        )
    settings = await service.settings(GUILD)
    assert (settings.timezone, settings.moderator_role_id) == ("Europe/London", None)
    assert len(await service.audit_log(GUILD)) == 1


async def test_guilds_do_not_see_each_other(sessions: SessionFactory, clock: FakeClock) -> None:
    service = GuildService(sessions, clock)
    await service.update_settings(GUILD, "A", MOD, moderator_role_id=1)
    await service.member_seen(GUILD, "A", 5, "alice", is_bot=False)
    assert (await service.settings(OTHER_GUILD)).moderator_role_id is None
    assert await service.audit_log(OTHER_GUILD) == []
    assert (await service.counts(OTHER_GUILD)).members_seen == 0


async def test_members_seen_and_leaving(sessions: SessionFactory, clock: FakeClock) -> None:
    service = GuildService(sessions, clock)
    await service.member_seen(GUILD, "A", 5, "alice", is_bot=False)
    await service.member_seen(GUILD, "A", 6, "bob", is_bot=False)
    await service.member_seen(GUILD, "A", 5, "alice again", is_bot=False)
    assert (await service.counts(GUILD)).members_seen == 2
    await service.member_left(GUILD, 6)
    assert (await service.counts(GUILD)).members_seen == 1
    await service.member_seen(GUILD, "A", 6, "bob", is_bot=False)  # rejoined
    assert (await service.counts(GUILD)).members_seen == 2

"""TopicService on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.database import SessionFactory
from bot.errors import UserFacingError
from bot.guilds.models import AuditEntry
from bot.topics.service import TopicInfo, TopicService
from bot.topics.suggestions import TopicSuggestions

GUILD = 1000
OTHER_GUILD = 2000
MOD = 1
ALICE = 11
BOB = 12
_IDS = itertools.count(10**12)


@pytest.fixture
def service(sessions: SessionFactory, clock: FakeClock) -> TopicService:
    return TopicService(sessions, clock)


async def make(
    service: TopicService,
    name: str,
    *,
    guild: int = GUILD,
    channel: int | None = None,
    role: int | None = None,
    kind: str = "text",
    tags: str | None = None,
) -> TopicInfo:
    new = await service.prepare(guild, name, description="About " + name, tags=tags, kind=kind)
    return await service.create(
        guild,
        "Guild",
        MOD,
        new,
        channel_id=channel if channel is not None else next(_IDS),
        role_id=role if role is not None else next(_IDS),
    )


async def test_create_and_read_back(service: TopicService, clock: FakeClock) -> None:
    topic = await make(service, "Project Based Learning", channel=500, role=600, tags="pbl, #STEM")
    assert topic.name == "Project Based Learning"
    assert topic.channel_name == "project-based-learning"
    assert topic.default_tags == ("pbl", "stem")
    assert topic.state == "active"
    assert topic.kind == "text"
    assert topic.created_at == clock.now()
    assert await service.get(GUILD, topic.id) == topic
    assert await service.by_name(GUILD, "project BASED learning") == topic
    assert await service.by_channel(GUILD, 500) == topic
    assert await service.by_role(GUILD, 600) == topic
    assert await service.active_topics(GUILD) == [topic]


async def test_duplicates_are_refused_case_insensitively(service: TopicService) -> None:
    await make(service, "Assessment")
    with pytest.raises(UserFacingError, match="already exists"):
        await service.prepare(GUILD, "  ASSESSMENT ")
    # A race past `prepare` is still caught by the unique constraint.
    new = await service.prepare(GUILD, "Feedback")
    await make(service, "feedback")
    with pytest.raises(UserFacingError, match="already exists"):
        await service.create(GUILD, "Guild", MOD, new, channel_id=1, role_id=2)


async def test_the_same_name_in_another_guild_is_fine(service: TopicService) -> None:
    mine = await make(service, "Reading")
    theirs = await make(service, "Reading", guild=OTHER_GUILD)
    assert mine.id != theirs.id
    assert await service.by_name(OTHER_GUILD, "reading") == theirs
    assert await service.get(OTHER_GUILD, mine.id) is None
    assert await service.by_channel(OTHER_GUILD, mine.channel_id or 0) is None


async def test_bad_input_saves_nothing(service: TopicService) -> None:
    for name, kwargs in [
        ("x" * 101, {}),
        ("ok", {"kind": "voice"}),
        ("ok", {"tags": "a/b"}),
        ("ok", {"description": "d" * 1025}),
        ("ok", {"emoji": "abc"}),
    ]:
        with pytest.raises(UserFacingError):
            await service.prepare(GUILD, name, **kwargs)  # type: ignore[arg-type]
    assert await service.all_topics(GUILD) == []


async def test_follow_and_unfollow(service: TopicService) -> None:
    topic = await make(service, "Math")
    assert await service.follow(GUILD, ALICE, topic.id) is True
    assert await service.follow(GUILD, ALICE, topic.id) is False
    assert await service.follow(GUILD, BOB, topic.id) is True
    info = await service.get(GUILD, topic.id)
    assert info is not None and info.follower_count == 2
    assert await service.followers(GUILD, topic.id) == [ALICE, BOB]
    assert [t.name for t in await service.followed_by(GUILD, ALICE)] == ["Math"]
    assert await service.is_following(GUILD, ALICE, topic.id)
    assert await service.unfollow(GUILD, ALICE, topic.id) is True
    assert await service.unfollow(GUILD, ALICE, topic.id) is False
    assert await service.followed_by(GUILD, ALICE) == []
    assert await service.followed_by(OTHER_GUILD, BOB) == []


async def test_members_leaving_stop_counting(service: TopicService) -> None:
    a = await make(service, "Art")
    b = await make(service, "Biology")
    other = await make(service, "Art", guild=OTHER_GUILD)
    for topic in (a, b):
        await service.follow(GUILD, ALICE, topic.id)
    await service.follow(OTHER_GUILD, ALICE, other.id)
    assert await service.member_left(GUILD, ALICE) == 2
    assert [t.follower_count for t in await service.all_topics(GUILD)] == [0, 0]
    assert [t.follower_count for t in await service.all_topics(OTHER_GUILD)] == [1]


async def test_archive_and_restore_keep_followers(service: TopicService) -> None:
    topic = await make(service, "History")
    await service.follow(GUILD, ALICE, topic.id)
    archived = await service.archive(GUILD, MOD, topic.id)
    assert archived.state == "archived" and archived.archived
    assert archived.follower_count == 1
    assert await service.active_topics(GUILD) == []
    with pytest.raises(UserFacingError, match="archived"):
        await service.follow(GUILD, BOB, topic.id)
    with pytest.raises(UserFacingError, match="already archived"):
        await service.archive(GUILD, MOD, topic.id)
    restored = await service.restore(GUILD, MOD, topic.id)
    assert restored.state == "active" and restored.follower_count == 1
    with pytest.raises(UserFacingError, match="not archived"):
        await service.restore(GUILD, MOD, topic.id)


async def test_edit_renames_and_refuses_taken_names(service: TopicService) -> None:
    topic = await make(service, "Chem")
    await make(service, "Physics")
    edited = await service.edit(
        GUILD, MOD, topic.id, name="Chemistry", emoji="⚗️", tags="lab", description="Labs"
    )
    assert (edited.name, edited.emoji, edited.default_tags, edited.description) == (
        "Chemistry",
        "⚗️",
        ("lab",),
        "Labs",
    )
    with pytest.raises(UserFacingError, match="already exists"):
        await service.edit(GUILD, MOD, topic.id, name="physics")
    # changing only the case of its own name is allowed
    assert (await service.edit(GUILD, MOD, topic.id, name="CHEMISTRY")).name == "CHEMISTRY"


async def test_broken_and_repaired(service: TopicService) -> None:
    topic = await make(service, "Music", channel=77, role=88)
    await service.follow(GUILD, ALICE, topic.id)
    broken = await service.mark_broken(
        GUILD, topic.id, "its channel was deleted", channel_gone=True, role_gone=False
    )
    assert broken.state == "broken" and broken.channel_id is None and broken.role_id == 88
    assert await service.active_topics(GUILD) == []
    with pytest.raises(UserFacingError, match="/mod topic repair"):
        await service.follow(GUILD, BOB, topic.id)
    fixed = await service.repaired(GUILD, MOD, topic.id, channel_id=99)
    assert fixed.state == "active" and fixed.channel_id == 99 and fixed.follower_count == 1


async def test_renamed_on_discord_follows_usable_names(service: TopicService) -> None:
    topic = await make(service, "Drama")
    await make(service, "Dance")
    assert await service.renamed_on_discord(GUILD, topic.id, "dance") is None
    assert await service.renamed_on_discord(GUILD, topic.id, "Drama") is None
    renamed = await service.renamed_on_discord(GUILD, topic.id, "Theatre")
    assert renamed is not None and renamed.name == "Theatre"


async def test_search_for_autocomplete(service: TopicService) -> None:
    for name in ("Science", "Computer Science", "Social Studies", "Spanish"):
        await make(service, name)
    names = [t.name for t in await service.search(GUILD, "sci")]
    assert names == ["Science", "Computer Science"]
    assert len(await service.search(GUILD, "", limit=2)) == 2
    assert await service.search(OTHER_GUILD, "s") == []


async def test_settings_visibility(service: TopicService) -> None:
    assert (await service.settings(GUILD)).visibility == "open"
    updated = await service.update_settings(
        GUILD, "Guild", MOD, visibility="opt-in", category_name="Our  Topics", ping_followers=True
    )
    assert (updated.visibility, updated.category_name, updated.ping_followers) == (
        "opt-in",
        "Our Topics",
        True,
    )
    assert updated.archive_category_name == "Our Topics archive"
    assert await service.settings(GUILD) == updated
    assert (await service.settings(OTHER_GUILD)).visibility == "open"
    with pytest.raises(UserFacingError):
        await service.update_settings(GUILD, "Guild", MOD, visibility="secret")


async def test_suggestions_are_decided_once(
    service: TopicService, sessions: SessionFactory, clock: FakeClock
) -> None:
    suggestions = TopicSuggestions(sessions, clock, service)
    suggestion = await suggestions.suggest(
        GUILD, "Guild", ALICE, "Outdoor Learning", "Forest school"
    )
    assert suggestion.state == "pending"
    with pytest.raises(UserFacingError, match="already suggested"):
        await suggestions.suggest(GUILD, "Guild", BOB, "outdoor learning", "me too")
    topic = await make(service, "Outdoor Learning")
    decided = await suggestions.decide(
        GUILD, suggestion.id, MOD, approved=True, topic_id=topic.id, note=None
    )
    assert decided.state == "approved" and decided.topic_id == topic.id
    with pytest.raises(UserFacingError, match="already approved"):
        await suggestions.decide(GUILD, suggestion.id, MOD, approved=False)
    with pytest.raises(UserFacingError, match="already exists"):
        await suggestions.suggest(GUILD, "Guild", BOB, "outdoor learning", "again")
    other = await suggestions.suggest(GUILD, "Guild", BOB, "Chess", "")
    assert await suggestions.suggestion(OTHER_GUILD, other.id) is None
    rejected = await suggestions.decide(GUILD, other.id, MOD, approved=False, note="  Off topic ")
    assert (rejected.state, rejected.decision_note) == ("rejected", "Off topic")


async def test_pickers(service: TopicService) -> None:
    await service.add_picker(GUILD, "Guild", MOD, 10, 20)
    await service.add_picker(GUILD, "Guild", MOD, 10, 21)
    assert sorted(await service.pickers(GUILD)) == [(10, 20), (10, 21)]
    await service.remove_picker(GUILD, 20)
    assert await service.pickers(GUILD) == [(10, 21)]
    assert await service.pickers(OTHER_GUILD) == []


async def test_moderator_changes_are_audited(
    service: TopicService, sessions: SessionFactory
) -> None:
    topic = await make(service, "Audit")
    await service.archive(GUILD, MOD, topic.id)
    await service.restore(GUILD, MOD, topic.id)
    await service.edit(GUILD, MOD, topic.id, description="new")
    async with sessions() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.guild_id == GUILD)
                .order_by(AuditEntry.id)
            )
        )
    assert actions == ["topic.create", "topic.archive", "topic.restore", "topic.edit"]


async def test_search_treats_wildcards_literally_and_skips_archived(service: TopicService) -> None:
    await make(service, "100% Maths")
    await make(service, "Maths_club")
    archived = await make(service, "Maths history")
    await service.archive(GUILD, MOD, archived.id)
    assert [t.name for t in await service.search(GUILD, "%")] == ["100% Maths"]
    assert [t.name for t in await service.search(GUILD, "_")] == ["Maths_club"]
    assert [t.name for t in await service.search(GUILD, "maths")] == ["Maths_club", "100% Maths"]
    everything = await service.search(GUILD, "maths", include_archived=True)
    assert [t.name for t in everything] == ["Maths history", "Maths_club", "100% Maths"]

"""Topic channels, end to end: the real bot and discord.py against the Discord emulator."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from support.world import MakeWorld, World, eventually, text_of

from bot.library.service import LibraryService
from bot.topics.models import Topic
from discord_emulator import (
    Channel,
    ChannelType,
    Message,
    Permission,
    wire,
)
from discord_emulator.driver import DEFAULT_BOT_PERMISSIONS
from discord_emulator.permissions import channel_permissions
from discord_emulator.rest.guilds import role_event
from discord_emulator.state import GatewayEvent, Intent

pytestmark = pytest.mark.e2e


@pytest.fixture
async def world(make_world: MakeWorld) -> World:
    return await make_world()


async def test_moderator_creates_topics_posts_a_picker_and_members_join(world: World) -> None:
    emu = world.emu
    await world.run(world.mod, "mod topic settings", {"visibility": "opt-in"})
    for name, kind in [
        ("Project Based Learning", "text"),
        ("AI in Class", "text"),
        ("Reading", "forum"),
    ]:
        reply = await world.run(world.mod, "mod topic create", {"name": name, "kind": kind})
        assert "Created" in reply.content, reply.content
    pbl = world.channel_named("project-based-learning")
    ai = world.channel_named("ai-in-class")
    reading = world.channel_named("reading")
    assert pbl is not None and ai is not None and reading is not None
    assert reading.type == ChannelType.GUILD_FORUM
    category = emu.state.channels[pbl.parent_id or 0]
    assert category.name == "Topics" and category.type == ChannelType.GUILD_CATEGORY

    # opt-in: nobody but moderators sees a topic before following it
    assert not world.can_see(world.alice, pbl)
    assert world.can_see(world.mod, pbl)

    await world.run(world.mod, "mod topic picker", {"channel": world.general})
    picker = await emu.wait_for_message(world.general, lambda m: bool(m.components))
    # alice joins two topics through the picker
    pick = await emu.select(
        world.alice,
        picker,
        "topics:picker:0",
        [str_id(world, "AI in Class"), str_id(world, "Reading")],
    )
    answer = await emu.wait_for_followup(pick)
    assert "Joined" in answer.content
    # bob joins with the command
    reply = await world.run(world.bob, "topic join", {"name": "project based learning"})
    assert "You joined" in reply.content

    assert world.can_see(world.alice, ai) and world.can_see(world.alice, reading)
    assert not world.can_see(world.alice, pbl)
    assert world.can_see(world.bob, pbl) and not world.can_see(world.bob, ai)

    mine = await world.run(world.alice, "topic mine")
    assert "AI in Class" in mine.content and "Reading" in mine.content

    # picking a followed topic again leaves it
    pick = await emu.select(world.alice, picker, "topics:picker:0", [str_id(world, "Reading")])
    assert "Left" in (await emu.wait_for_followup(pick)).content
    assert not world.can_see(world.alice, reading)


def str_id(world: World, name: str) -> str:
    for option in _picker_options(world):
        if option["label"] == name:
            return str(option["value"])
    raise AssertionError(f"{name} not in the picker")


def _picker_options(world: World) -> list[dict[str, Any]]:
    for message in reversed(world.emu.history(world.general)):
        for row in message.components:
            for component in row.get("components", []):
                if component.get("custom_id", "").startswith("topics:picker:") and component.get(
                    "options"
                ):
                    return list(component["options"])
    return []


async def create(world: World, name: str, **options: Any) -> Message:
    return await world.run(world.mod, "mod topic create", {"name": name, **options})


async def test_a_member_suggests_a_topic_and_a_moderator_approves_it(world: World) -> None:
    emu = world.emu
    reply = await world.run(
        world.alice, "topic suggest", {"name": "Outdoor Learning", "why": "Forest school ideas"}
    )
    assert "went to the moderators" in reply.content
    posted = await emu.wait_for_message(world.log, lambda m: bool(m.components))
    assert "Outdoor Learning" in text_of(posted)
    # a member cannot decide, even by clicking
    refused = await emu.click(world.bob, posted, "Approve")
    assert "Only moderators" in (await emu.wait_for_response(refused)).content
    assert world.channel_named("outdoor-learning") is None

    click = await emu.click(world.mod, posted, "Approve")
    await emu.wait_for_response(click)
    assert world.channel_named("outdoor-learning") is not None

    def decided_message() -> Message | None:
        message = emu.state.messages[posted.id]
        return message if not message.components else None

    decided = await emu.wait_until(decided_message)
    assert "approved" in decided.content
    dm = await emu.wait_until(lambda: emu.dm_history(world.alice) or None)
    assert "approved" in dm[-1].content

    # a second suggestion is rejected with a reason
    await world.run(world.bob, "topic suggest", {"name": "Chess", "why": "fun"})
    second = await emu.wait_for_message(
        world.log, lambda m: bool(m.components) and "Chess" in text_of(m)
    )
    click = await emu.click(world.mod, second, "Reject")
    submitted = await emu.submit_modal(world.mod, click, {"reason": "Off topic here"})
    await emu.wait_for_response(submitted)
    dm = await emu.wait_until(lambda: emu.dm_history(world.bob) or None)
    assert "not accepted" in dm[-1].content and "Off topic here" in dm[-1].content
    assert world.channel_named("chess") is None


async def test_a_topic_is_archived_and_restored_with_its_followers(world: World) -> None:
    emu = world.emu
    await create(world, "History", tags="history, primary-sources")
    await world.run(world.alice, "topic join", {"name": "History"})
    channel = world.channel_named("history")
    assert channel is not None
    library = world.bot.services.library
    captured = await library.capture_channel(world.guild.id, channel.id)
    assert captured is not None and captured.default_tags == ("history", "primary-sources")
    role = world.role_named("History")
    assert role.id in world.alice.roles

    reply = await world.run(world.mod, "mod topic archive", {"name": "History"})
    assert "Archived" in reply.content
    parent = emu.state.channels[channel.parent_id or 0]
    assert parent.name == "Topics archive"
    perms = channel_permissions(world.guild, world.alice, channel, None)
    assert perms & Permission.VIEW_CHANNEL and not perms & Permission.SEND_MESSAGES
    assert role.id in world.alice.roles  # role kept, no member edited
    assert await library.capture_channel(world.guild.id, channel.id) is None
    refused = await world.run(world.bob, "topic join", {"name": "History"})
    assert "archived" in refused.content

    reply = await world.run(world.mod, "mod topic restore", {"name": "History"})
    assert "Restored" in reply.content and "1 followers" in reply.content
    assert emu.state.channels[channel.parent_id or 0].name == "Topics"
    perms = channel_permissions(world.guild, world.alice, channel, None)
    assert perms & Permission.SEND_MESSAGES
    info = await world.run(world.alice, "topic info", {"name": "History"})
    assert "Followers 1" in text_of(info)
    assert await library.capture_channel(world.guild.id, channel.id) is not None


async def test_a_too_long_tag_is_refused_and_nothing_is_created(world: World) -> None:
    # Topics once allowed 40-character tags and the library 32: such a topic silently never
    # became a capture channel. There is one tag rule now, and the moderator hears of it at once.
    long_tag = "a" * 37
    refused = await create(world, "Astronomy", tags=f"space, {long_tag}")
    assert refused.ephemeral and "at most 32 characters" in refused.content
    assert world.channel_named("astronomy") is None and world.role_named("Astronomy") is None


async def test_a_failed_follow_up_of_a_change_is_told_to_the_moderators(world: World) -> None:
    await create(world, "Geology", tags="rocks")
    channel = world.channel_named("geology")
    assert channel is not None
    # A topic stored before the one tag rule, with a tag the library refuses.
    async with world.bot.sessions() as session, session.begin():
        await session.execute(
            update(Topic).where(Topic.name == "Geology").values(default_tags=["b" * 37])
        )
    reply = await world.run(
        world.mod, "mod topic edit", {"name": "Geology", "description": "Rocks"}
    )
    assert "Saved" in reply.content  # the change itself is done
    told = await world.emu.wait_for_message(world.log, lambda m: "⚠️" in m.content)
    assert "could not be updated" in told.content and "at most 32 characters" in told.content


async def test_a_deleted_topic_channel_is_detected_and_repaired(world: World) -> None:
    emu = world.emu
    await create(world, "Music")
    await world.run(world.alice, "topic join", {"name": "Music"})
    channel = world.channel_named("music")
    assert channel is not None
    delete_by_hand(world, channel)
    warning = await emu.wait_for_message(world.log, lambda m: "broken" in m.content)
    assert "/mod topic repair" in warning.content
    refused = await world.run(world.bob, "topic join", {"name": "Music"})
    assert "broken" in refused.content and "/mod topic repair" in refused.content

    reply = await world.run(world.mod, "mod topic repair", {"name": "Music"})
    assert "recreated channel" in reply.content
    repaired = world.channel_named("music")
    assert repaired is not None and repaired.id != channel.id
    joined = await world.run(world.bob, "topic join", {"name": "Music"})
    assert "You joined" in joined.content
    info = await world.run(world.alice, "topic info", {"name": "Music"})
    assert "Followers 2" in text_of(info)


async def test_a_member_cannot_create_topics_even_invoking_directly(world: World) -> None:
    interaction = await world.emu.invoke(
        world.bob,
        "mod topic create",
        {"name": "Sneaky"},
        channel=world.general,
        bypass_default_permissions=True,
    )
    reply = await world.emu.wait_for_response(interaction)
    assert "moderators" in reply.content
    assert world.channel_named("sneaky") is None and world.role_named("Sneaky") is None


async def test_without_manage_roles_the_bot_explains_and_leaves_nothing(world: World) -> None:
    emu = world.emu
    emu.set_bot_permissions(world.guild, DEFAULT_BOT_PERMISSIONS & ~int(Permission.MANAGE_ROLES))
    await emu.wait_until(
        lambda: not world.bot.get_guild(world.guild.id).me.guild_permissions.manage_roles
    )  # type: ignore[union-attr]
    channels = len(emu.state.guild_channels(world.guild))
    roles = len(world.guild.roles)
    reply = await create(world, "Robotics")
    assert "Manage Roles" in reply.content and "Nothing was changed" in reply.content
    assert len(emu.state.guild_channels(world.guild)) == channels
    assert len(world.guild.roles) == roles


async def test_channel_creation_refused_rolls_back_the_role(world: World) -> None:
    """Discord refuses the channel (here: Manage Channels removed behind discord.py's back)."""
    emu = world.emu
    bot_guild = world.bot.get_guild(world.guild.id)
    assert bot_guild is not None
    roles = len(world.guild.roles)
    # The emulator refuses channel creation while discord.py's cache still shows the permission.
    role = emu.bot_role(world.guild)
    role.permissions &= ~int(Permission.MANAGE_CHANNELS)
    reply = await create(world, "Robotics")
    assert "Nothing was kept" in reply.content, reply.content
    assert world.role_named("Robotics") is None
    assert len(world.guild.roles) == roles


def delete_by_hand(world: World, channel: Channel) -> None:
    """A moderator deletes the channel in Discord's own client."""
    state = world.emu.state
    data = wire.channel(channel, state)
    del state.channels[channel.id]
    world.guild.channel_ids.remove(channel.id)
    state.emit(GatewayEvent("CHANNEL_DELETE", data, intent=Intent.GUILDS))


async def test_the_picker_follows_topic_changes_and_survives_a_restart(world: World) -> None:
    emu = world.emu
    await create(world, "Art")
    await create(world, "Biology")
    await world.run(world.mod, "mod topic picker")
    picker = await emu.wait_for_message(world.general, lambda m: bool(m.components))
    assert [o["label"] for o in _picker_options(world)] == ["Art", "Biology"]

    await create(world, "Chemistry", emoji="⚗️")
    await emu.wait_until(lambda: len(_picker_options(world)) == 3 or None)
    await world.run(world.mod, "mod topic archive", {"name": "Art"})
    await emu.wait_until(lambda: len(_picker_options(world)) == 2 or None)

    # The bot restarts: the old message's menu still works.
    await world.restart()
    pick = await emu.select(world.alice, picker, "topics:picker:0", [str_id(world, "Chemistry")])
    assert "Joined" in (await emu.wait_for_followup(pick)).content
    mine = await emu.click(world.alice, emu.state.messages[picker.id], "topics:picker:mine")
    assert "Chemistry" in (await emu.wait_for_response(mine)).content


async def test_roles_given_by_hand_and_members_leaving_keep_counts_true(world: World) -> None:
    emu = world.emu
    await create(world, "Poetry")
    role = world.role_named("Poetry")
    emu.add_role(world.bob, role)
    topics = world.bot.services.topics

    async def bob_follows() -> bool:
        return bool(await topics.followed_by(world.guild.id, world.bob.id))

    await eventually(bob_follows)  # the role event is handled as it arrives, not in step
    reply = await world.run(world.alice, "topic join", {"name": "Poetry"})
    assert "You joined" in reply.content
    info = await world.run(world.alice, "topic info", {"name": "Poetry"})
    assert "Followers 2" in text_of(info)
    emu.remove_member(world.bob)
    left = await world.run(world.alice, "topic leave", {"name": "Poetry"})
    assert "You left" in left.content
    info = await world.run(world.mod, "topic info", {"name": "Poetry"})
    assert "Followers 0" in text_of(info)


async def test_join_autocomplete_offers_active_topics(world: World) -> None:
    await create(world, "Science")
    await create(world, "Computer Science")
    await create(world, "Spanish")
    await world.run(world.mod, "mod topic archive", {"name": "Spanish"})
    choices = await world.emu.autocomplete(
        world.alice, "topic join", {"name": "sci"}, focused="name", channel=world.general
    )
    assert [c["value"] for c in choices] == ["Science", "Computer Science"]


async def test_a_topic_role_above_the_bot_is_explained(world: World) -> None:
    emu = world.emu
    await create(world, "Geography")
    role = world.role_named("Geography")
    role.position = emu.bot_role(world.guild).position + 1
    role_event(emu.state, "GUILD_ROLE_UPDATE", role)
    bot_guild = world.bot.get_guild(world.guild.id)
    assert bot_guild is not None
    await emu.wait_until(lambda: bot_guild.get_role(role.id).position == role.position or None)  # type: ignore[union-attr]
    reply = await world.run(world.alice, "topic join", {"name": "Geography"})
    assert "above my highest role" in reply.content and "drag" in reply.content
    assert role.id not in world.alice.roles


async def test_edits_and_renames_by_hand_stay_in_step(world: World) -> None:
    emu = world.emu
    await create(world, "Maths")
    reply = await world.run(
        world.mod, "mod topic edit", {"name": "Maths", "new_name": "Mathematics", "tags": "math"}
    )
    assert "Saved" in reply.content
    channel = world.channel_named("mathematics")
    assert channel is not None and world.role_named("Mathematics") is not None
    # a moderator renames the role in Discord: the topic and its channel follow
    role = world.role_named("Mathematics")
    role.name = "Numeracy"
    role_event(emu.state, "GUILD_ROLE_UPDATE", role)
    await emu.wait_until(lambda: world.channel_named("numeracy") or None)
    info = await world.run(world.alice, "topic info", {"name": "Numeracy"})
    assert "Numeracy" in text_of(info)


async def test_switching_to_opt_in_hides_topics_from_non_followers(world: World) -> None:
    await create(world, "Design")
    channel = world.channel_named("design")
    assert channel is not None and world.can_see(world.alice, channel)
    await world.run(world.bob, "topic join", {"name": "Design"})
    reply = await world.run(world.mod, "mod topic settings", {"visibility": "opt-in"})
    assert "opt-in" in reply.content and "1 topic channels" in reply.content
    assert not world.can_see(world.alice, channel)
    assert world.can_see(world.bob, channel) and world.can_see(world.mod, channel)
    await world.run(world.mod, "mod topic settings", {"visibility": "open"})
    assert world.can_see(world.alice, channel)


async def test_approval_buttons_work_after_a_restart(world: World) -> None:
    emu = world.emu
    await world.run(world.alice, "topic suggest", {"name": "Podcasts", "why": "Listening"})
    posted = await emu.wait_for_message(world.log, lambda m: bool(m.components))
    await world.restart()
    click = await emu.click(world.mod, posted, "Approve")
    await emu.wait_for_response(click)
    assert world.channel_named("podcasts") is not None


async def test_topic_list_shows_followers_and_links_shared_this_week(world: World) -> None:
    await create(world, "Maths Talk", tags="maths")
    channel = world.channel_named("maths-talk")
    assert channel is not None
    await world.run(world.alice, "topic join", {"name": "Maths Talk"})
    library = world.bot.services.library
    posted = [
        "Great read https://example.org/number-talks?utm_source=x",
        "Also https://example.org/number-talks and https://example.com/fractions",
    ]
    for content in posted:
        message = await world.emu.post_message(world.alice, channel, content)
        await eventually(lambda m=message: _captured(library, world.guild.id, m.id))

    listing = await world.run(world.bob, "topic list")

    line = text_of(listing)
    assert "Maths Talk" in line
    assert "1 follower · 2 links this week" in line  # the re-shared link counts once


async def _captured(library: LibraryService, guild_id: int, message_id: int) -> bool:
    found = await library.search(guild_id, limit=50)
    shares = [await library.shares_of(guild_id, r.id) for r in found]
    return any(ref.message_id == message_id for refs in shares for ref in refs)

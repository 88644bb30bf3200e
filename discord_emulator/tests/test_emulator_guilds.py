"""Channels, overwrites, roles, member roles, threads, forums and scheduled events."""

from __future__ import annotations

import datetime as dt

import discord
import pytest
from _support import StartBot, api, make_bot

from discord_emulator import ChannelType, DiscordEmulator, Permission


@pytest.fixture
async def world(emu: DiscordEmulator, start_bot: StartBot) -> dict:
    guild = emu.create_guild("PLN")
    general = emu.create_channel(guild, "general")
    forum = emu.create_channel(guild, "resources", type=ChannelType.GUILD_FORUM, tags=["python"])
    alice = emu.create_member(guild, "alice")
    bot = await start_bot(make_bot())
    dguild = bot.get_guild(guild.id)
    assert dguild is not None
    return {
        "guild": guild,
        "general": general,
        "forum": forum,
        "alice": alice,
        "bot": bot,
        "g": dguild,
    }


async def test_channel_lifecycle_dispatches_events(emu: DiscordEmulator, world: dict) -> None:
    g: discord.Guild = world["g"]
    category = await g.create_category("Learning")
    channel = await g.create_text_channel("weekly", category=category, topic="chats")
    await emu.wait_until(lambda: g.get_channel(channel.id))
    await channel.edit(name="weekly-chat", topic="Tuesday")
    await emu.wait_until(lambda: getattr(g.get_channel(channel.id), "name", "") == "weekly-chat")
    alice = g.get_member(world["alice"].id)
    assert alice is not None
    await channel.set_permissions(alice, send_messages=False)
    stored = emu.state.channels[channel.id]
    assert stored.overwrites[0].deny == Permission.SEND_MESSAGES and stored.parent_id == category.id
    await channel.set_permissions(alice, overwrite=None)
    assert stored.overwrites == []
    await channel.delete()
    await emu.wait_until(lambda: g.get_channel(channel.id) is None)


async def test_roles_respect_the_hierarchy(emu: DiscordEmulator, world: dict) -> None:
    g: discord.Guild = world["g"]
    role = await g.create_role(name="helpers", mentionable=True)
    await emu.wait_until(lambda: g.get_role(role.id))
    await role.edit(name="helpers!")
    member = g.get_member(world["alice"].id)
    assert member is not None
    await member.add_roles(role)
    await emu.wait_until(lambda: role in member.roles)
    await member.remove_roles(role)
    assert emu.state.guilds[g.id].members[member.id].roles == []

    above = emu.create_role(world["guild"], "admins", position=50)
    above_role = await emu.wait_until(lambda: g.get_role(above.id))
    with pytest.raises(discord.Forbidden) as denied:
        await above_role.edit(name="mine now")
    assert denied.value.code == 50013
    with pytest.raises(discord.Forbidden):
        await g.create_role(name="root", permissions=discord.Permissions(administrator=True))
    await role.delete()
    await emu.wait_until(lambda: g.get_role(role.id) is None)


async def test_threads_and_forum_posts(emu: DiscordEmulator, world: dict) -> None:
    g: discord.Guild = world["g"]
    general = g.get_channel(world["general"].id)
    assert isinstance(general, discord.TextChannel)
    starter = await general.send("Week 1")
    thread = await starter.create_thread(name="Week 1 chat")
    assert thread.id == starter.id and thread.owner_id == emu.bot_user.id
    await thread.send("first question")
    assert [m.content for m in emu.history(emu.state.channels[thread.id])] == ["first question"]
    await thread.edit(archived=True, locked=True)
    assert emu.state.channels[thread.id].archived
    private = await general.create_thread(name="mods", type=discord.ChannelType.private_thread)
    assert emu.state.channels[private.id].type == ChannelType.PRIVATE_THREAD
    await private.leave()
    await private.join()

    forum = g.get_channel(world["forum"].id)
    assert isinstance(forum, discord.ForumChannel)
    post = await forum.create_thread(
        name="A link", content="https://example.org", applied_tags=forum.available_tags
    )
    assert post.message.id == post.thread.id
    assert emu.state.channels[post.thread.id].applied_tags == [forum.available_tags[0].id]


async def test_scheduled_events(emu: DiscordEmulator, world: dict) -> None:
    g: discord.Guild = world["g"]
    start = discord.utils.utcnow() + dt.timedelta(days=1)
    event = await g.create_scheduled_event(
        name="Weekly chat",
        start_time=start,
        end_time=start + dt.timedelta(hours=1),
        entity_type=discord.EntityType.external,
        location="#weekly",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    await emu.wait_until(lambda: g.get_scheduled_event(event.id))
    await event.edit(name="Weekly chat #2")
    assert emu.state.guilds[g.id].scheduled_events[event.id].name == "Weekly chat #2"
    assert [e.name for e in await g.fetch_scheduled_events()] == ["Weekly chat #2"]
    await event.delete()
    await emu.wait_until(lambda: g.get_scheduled_event(event.id) is None)


async def test_event_in_the_past_is_a_violation(emu: DiscordEmulator) -> None:
    guild = emu.create_guild("PLN")
    body = {
        "name": "old",
        "scheduled_start_time": "2000-01-01T00:00:00+00:00",
        "scheduled_end_time": "2000-01-01T01:00:00+00:00",
        "entity_type": 3,
        "privacy_level": 2,
        "entity_metadata": {"location": "here"},
    }
    status, _ = await api(emu, "POST", f"/guilds/{guild.id}/scheduled-events", body)
    assert status == 400 and "past" in emu.take_violations()[0].reason


async def test_unknown_route_is_a_violation(emu: DiscordEmulator) -> None:
    status, _ = await api(emu, "GET", "/no/such/route")
    assert status == 404
    assert emu.take_violations()[0].reason == "the emulator does not implement this route"

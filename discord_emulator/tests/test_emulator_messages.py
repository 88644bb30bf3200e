"""Messages, attachments, reactions, mentions, permissions and DMs as Discord enforces them."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import aiohttp
import discord
import pytest
from _support import StartBot, api, make_bot

from discord_emulator import DiscordEmulator, EmulatorUsageError, Permission
from discord_emulator.messaging import NONCE_WINDOW


@pytest.fixture
async def world(emu: DiscordEmulator, start_bot: StartBot) -> tuple[discord.Client, dict]:
    guild = emu.create_guild("PLN")
    general = emu.create_channel(guild, "general")
    alice = emu.create_member(guild, "alice")
    bot = await start_bot(make_bot())
    return bot, {"guild": guild, "general": general, "alice": alice}


async def test_member_message_reaches_the_bot_and_the_bot_replies(
    emu: DiscordEmulator, world: tuple[discord.Client, dict]
) -> None:
    bot, w = world
    received: asyncio.Queue[discord.Message] = asyncio.Queue()
    bot.add_listener(received.put, "on_message")
    posted = await emu.post_message(w["alice"], w["general"], "hello bot")
    seen = await asyncio.wait_for(received.get(), 2)
    assert (seen.id, seen.content, seen.author.id) == (posted.id, "hello bot", w["alice"].id)

    reply = await seen.reply("hi alice")
    stored = await emu.wait_for_message(w["general"], lambda m: m.content == "hi alice")
    assert stored.id == reply.id and stored.message_reference is not None
    assert stored.mentions == [w["alice"].id]  # a reply pings its author by default
    assert [m.content for m in emu.history(w["general"])] == ["hello bot", "hi alice"]


async def test_content_is_stripped_without_the_message_content_intent(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    guild = emu.create_guild("PLN")
    general = emu.create_channel(guild, "general")
    alice = emu.create_member(guild, "alice")
    intents = discord.Intents.default()
    bot = await start_bot(make_bot(intents=intents))
    received: asyncio.Queue[discord.Message] = asyncio.Queue()
    bot.add_listener(received.put, "on_message")

    await emu.post_message(alice, general, "secret")
    assert (await asyncio.wait_for(received.get(), 2)).content == ""
    await emu.post_message(alice, general, f"{emu.bot_user.mention} hi")
    assert (await asyncio.wait_for(received.get(), 2)).content.endswith(" hi")
    await emu.dm_bot(alice, "a dm")
    assert (await asyncio.wait_for(received.get(), 2)).content == "a dm"


async def test_history_edit_delete_and_pagination(
    emu: DiscordEmulator, world: tuple[discord.Client, dict]
) -> None:
    bot, w = world
    channel = bot.get_channel(w["general"].id)
    assert isinstance(channel, discord.TextChannel)
    sent = [await channel.send(f"m{i}") for i in range(5)]
    newest_first = [m.content async for m in channel.history(limit=3)]
    assert newest_first == ["m4", "m3", "m2"]
    after = [m.content async for m in channel.history(after=sent[1], oldest_first=True)]
    assert after == ["m2", "m3", "m4"]
    before = [m.content async for m in channel.history(before=sent[2])]
    assert before == ["m1", "m0"]

    edited = await sent[0].edit(content="changed")
    assert edited.content == "changed" and edited.edited_at is not None
    deleted: asyncio.Queue[discord.RawMessageDeleteEvent] = asyncio.Queue()
    bot.add_listener(deleted.put, "on_raw_message_delete")
    await sent[1].delete()
    assert (await asyncio.wait_for(deleted.get(), 2)).message_id == sent[1].id
    assert [m.content for m in emu.history(w["general"])] == ["changed", "m2", "m3", "m4"]
    with pytest.raises(discord.NotFound) as missing:
        await channel.fetch_message(sent[1].id)
    assert missing.value.code == 10008


async def test_files_are_stored_and_downloadable(
    emu: DiscordEmulator, world: tuple[discord.Client, dict]
) -> None:
    bot, w = world
    channel = bot.get_channel(w["general"].id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send("notes", file=discord.File(io.BytesIO(b"abc"), "notes.txt"))
    stored = emu.history(w["general"])[-1]
    assert stored.attachments[0].filename == "notes.txt" and emu.attachment_bytes(stored) == b"abc"
    assert await message.attachments[0].read() == b"abc"
    async with aiohttp.ClientSession() as session, session.get(stored.attachments[0].url) as r:
        assert await r.read() == b"abc"


async def test_allowed_mentions_decide_who_is_pinged(
    emu: DiscordEmulator, world: tuple[discord.Client, dict]
) -> None:
    bot, w = world
    role = emu.create_role(w["guild"], "pingable", mentionable=True)
    channel = bot.get_channel(w["general"].id)
    assert isinstance(channel, discord.TextChannel)
    text = f"@everyone {role.mention} {w['alice'].mention}"

    await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
    quiet = emu.history(w["general"])[-1]
    assert (quiet.mentions, quiet.mention_roles, quiet.mention_everyone) == ([], [], False)

    await channel.send(text, allowed_mentions=discord.AllowedMentions(users=True, roles=True))
    loud = emu.history(w["general"])[-1]
    assert loud.mentions == [w["alice"].id] and loud.mention_roles == [role.id]
    assert not loud.mention_everyone  # the bot lacks MENTION_EVERYONE


async def test_member_text_with_everyone_does_not_ping_without_permission(
    emu: DiscordEmulator, world: tuple[discord.Client, dict]
) -> None:
    _, w = world
    message = await emu.post_message(w["alice"], w["general"], "@everyone look")
    assert not message.mention_everyone
    mod = emu.create_member(w["guild"], "mod", permissions=int(Permission.MENTION_EVERYONE))
    assert (await emu.post_message(mod, w["general"], "@everyone look")).mention_everyone


async def test_reactions_both_ways(
    emu: DiscordEmulator, world: tuple[discord.Client, dict]
) -> None:
    bot, w = world
    channel = bot.get_channel(w["general"].id)
    assert isinstance(channel, discord.TextChannel)
    added: asyncio.Queue[discord.RawReactionActionEvent] = asyncio.Queue()
    removed: asyncio.Queue[discord.RawReactionActionEvent] = asyncio.Queue()
    bot.add_listener(added.put, "on_raw_reaction_add")
    bot.add_listener(removed.put, "on_raw_reaction_remove")
    message = await channel.send("vote")
    await message.add_reaction("👍")
    assert (await asyncio.wait_for(added.get(), 2)).user_id == emu.bot_user.id
    stored = emu.history(w["general"])[-1]
    await emu.react(w["alice"], stored, "👍")
    event = await asyncio.wait_for(added.get(), 2)
    assert (event.user_id, str(event.emoji)) == (w["alice"].id, "👍")
    fetched = await channel.fetch_message(message.id)
    users = [u.id async for u in fetched.reactions[0].users()]
    assert sorted(users) == sorted([emu.bot_user.id, w["alice"].id])
    await emu.unreact(w["alice"], stored, "👍")
    assert (await asyncio.wait_for(removed.get(), 2)).user_id == w["alice"].id
    await message.remove_reaction("👍", bot.user)  # type: ignore[arg-type]
    assert stored.reactions == []


async def test_missing_permissions_and_unknown_ids(
    emu: DiscordEmulator, world: tuple[discord.Client, dict]
) -> None:
    bot, w = world
    channel = bot.get_channel(w["general"].id)
    assert isinstance(channel, discord.TextChannel)
    emu.set_overwrite(w["general"], emu.bot_member(w["guild"]), deny=int(Permission.SEND_MESSAGES))
    with pytest.raises(discord.Forbidden) as denied:
        await channel.send("hi")
    assert denied.value.code == 50013
    with pytest.raises(discord.NotFound) as unknown_channel:
        await bot.fetch_channel(123)
    assert unknown_channel.value.code == 10003
    guild = bot.get_guild(w["guild"].id)
    assert guild is not None
    with pytest.raises(discord.NotFound) as unknown_member:
        await guild.fetch_member(123)
    assert unknown_member.value.code == 10007
    with pytest.raises(EmulatorUsageError):
        emu.set_overwrite(w["general"], w["alice"], deny=int(Permission.SEND_MESSAGES))
        await emu.post_message(w["alice"], w["general"], "nope")


async def test_direct_messages_and_closed_dms(
    emu: DiscordEmulator, world: tuple[discord.Client, dict]
) -> None:
    bot, w = world
    user = await bot.fetch_user(w["alice"].id)
    await user.send("welcome")
    assert [m.content for m in emu.dm_history(w["alice"])] == ["welcome"]
    emu.set_dms_closed(w["alice"])
    with pytest.raises(discord.Forbidden) as closed:
        await user.send("again")
    assert closed.value.code == 50007


async def test_broken_message_rules_are_violations(emu: DiscordEmulator) -> None:
    guild = emu.create_guild("PLN")
    channel = emu.create_channel(guild, "general")
    status, body = await api(
        emu, "POST", f"/channels/{channel.id}/messages", {"content": "x" * 2001}
    )
    assert (status, body["code"]) == (400, 50035)
    embeds = [{"title": "t" * 257}]
    status, _ = await api(emu, "POST", f"/channels/{channel.id}/messages", {"embeds": embeds})
    assert status == 400
    status, _ = await api(emu, "POST", f"/channels/{channel.id}/messages", {"content": ""})
    assert status == 400
    violations = emu.take_violations()
    assert len(violations) == 3 and "2000" in violations[0].reason


async def test_message_timestamps_come_from_the_injected_clock() -> None:
    instant = datetime(2030, 1, 1, 19, 0, tzinfo=UTC)
    async with DiscordEmulator(clock=lambda: instant) as emu:
        guild = emu.create_guild("PLN")
        channel = emu.create_channel(guild, "general")
        emu.hub.sessions.clear()
        message = await emu.post_message(guild.members[guild.owner_id], channel, "hi")
        assert message.timestamp == instant
        assert discord.utils.snowflake_time(message.id) == instant


async def test_enforce_nonce_returns_the_first_message_within_discords_window() -> None:
    now = [datetime(2026, 3, 2, 12, 0, tzinfo=UTC)]
    async with DiscordEmulator(clock=lambda: now[0]) as emu:
        guild = emu.create_guild("PLN")
        general = emu.create_channel(guild, "general")
        path = f"/channels/{general.id}/messages"
        enforced = {"content": "once", "nonce": "slot.1", "enforce_nonce": True}
        status, first = await api(emu, "POST", path, enforced)
        assert status == 200 and first["nonce"] == "slot.1"
        status, again = await api(emu, "POST", path, enforced)
        assert status == 200 and again["id"] == first["id"] and again["nonce"] == "slot.1"
        assert len(emu.history(general)) == 1
        # Without enforce_nonce Discord makes a second message with the same nonce.
        _, plain = await api(emu, "POST", path, {"content": "once", "nonce": "slot.1"})
        assert plain["id"] != first["id"]
        # After "a few minutes" the nonce is forgotten.
        now[0] += NONCE_WINDOW + timedelta(seconds=1)
        _, later = await api(emu, "POST", path, enforced)
        assert later["id"] not in (first["id"], plain["id"])
        assert [m.nonce for m in emu.history(general)] == ["slot.1"] * 3
        # A fetched message carries no nonce: Discord keeps it only ephemerally.
        _, fetched = await api(emu, "GET", f"{path}/{first['id']}")
        assert "nonce" not in fetched
        _, listed = await api(emu, "GET", f"{path}?limit=10")
        assert all("nonce" not in m for m in listed)
        status, _ = await api(emu, "POST", path, {"content": "x", "nonce": "n" * 26})
        assert status == 400
        [violation] = emu.take_violations()
        assert "nonce: must be 25 or fewer in length" in str(violation)


async def test_discordpy_sends_its_nonce_enforced_and_gets_the_first_message_back(
    emu: DiscordEmulator, world: tuple[discord.Client, dict]
) -> None:
    bot, w = world
    created: asyncio.Queue[discord.Message] = asyncio.Queue()
    bot.add_listener(created.put, "on_message")
    channel = bot.get_channel(w["general"].id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("retry me", nonce="pln.42")
    second = await channel.send("retry me", nonce="pln.42")
    assert second.id == first.id and first.nonce == "pln.42"
    assert [m.content for m in emu.history(w["general"])] == ["retry me"]
    assert emu.requests[-1].body["enforce_nonce"] is True
    echoed = await asyncio.wait_for(created.get(), 2)  # MESSAGE_CREATE carries the nonce too
    assert echoed.id == first.id and echoed.nonce == "pln.42" and created.empty()

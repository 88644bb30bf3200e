"""A real discord.py client logs in, discovers the gateway and becomes ready on the emulator."""

from __future__ import annotations

import json
import time

import aiohttp
import discord
import pytest
from _support import StartBot, api, make_bot

from discord_emulator import DiscordEmulator, Intent


async def test_client_reaches_ready_with_guild_channels_roles_and_members(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    guild = emu.create_guild("PLN")
    general = emu.create_channel(guild, "general", topic="chat")
    mods = emu.create_role(guild, "moderators")
    alice = emu.create_member(guild, "alice", roles=[mods])

    started = time.perf_counter()
    bot = await start_bot(make_bot())
    elapsed = time.perf_counter() - started

    # Includes answering op 8 (request guild members); otherwise on_ready would wait 5 s.
    assert elapsed < 1.0, f"ready took {elapsed:.2f} s"
    assert bot.user is not None and bot.user.id == emu.bot_user.id
    assert bot.application_id == emu.application_id
    seen = bot.get_guild(guild.id)
    assert seen is not None and seen.name == "PLN"
    channel = seen.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel) and channel.topic == "chat"
    member = seen.get_member(alice.id)
    assert member is not None and [r.name for r in member.roles[1:]] == ["moderators"]
    paths = [r.template for r in emu.requests]
    assert paths[:3] == ["/users/@me", "/oauth2/applications/@me", "/gateway/bot"]


async def test_guild_created_after_ready_is_dispatched(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot(make_bot())
    guild = emu.create_guild("Later")
    await emu.wait_until(lambda: bot.get_guild(guild.id))


async def test_privileged_intent_not_enabled_closes_with_4014(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    emu.enabled_privileged_intents = Intent.GUILD_MEMBERS  # message content not enabled
    with pytest.raises(discord.PrivilegedIntentsRequired):
        await start_bot(make_bot())


async def test_bad_token_is_refused(emu: DiscordEmulator) -> None:
    status, body = await api(emu, "GET", "/users/@me", auth=False)
    assert (status, body["code"]) == (401, 0)
    async with aiohttp.ClientSession() as session, session.ws_connect(emu.gateway_url) as ws:
        await ws.receive_json()  # HELLO
        await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 0}})
        closing = await ws.receive()
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 4004


async def test_uncompressed_gateway_and_heartbeat(emu: DiscordEmulator) -> None:
    emu.create_guild("PLN")
    url = emu.gateway_url + "?v=10&encoding=json"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        hello = await ws.receive_json()
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 1, "d": None})
        assert (await ws.receive_json())["op"] == 11
        await ws.send_json({"op": 2, "d": {"token": emu.token, "intents": 1}})
        ready = await ws.receive_json()
        assert (ready["t"], ready["s"]) == ("READY", 1)
        guild_create = json.loads((await ws.receive()).data)
        assert (guild_create["t"], guild_create["s"]) == ("GUILD_CREATE", 2)
        # Without GUILD_MEMBERS only the bot's own member is sent.
        assert [m["user"]["id"] for m in guild_create["d"]["members"]] == [str(emu.bot_user.id)]

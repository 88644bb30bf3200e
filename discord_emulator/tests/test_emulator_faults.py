"""Fault injection: REST 429/5xx are retried by discord.py; gateway drops are resumed."""

from __future__ import annotations

import asyncio

import discord
import pytest
from _support import StartBot, api, make_bot

from discord_emulator import DiscordEmulator

CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
MESSAGES = "/channels/{channel_id}/messages"


@pytest.fixture
async def world(emu: DiscordEmulator, start_bot: StartBot) -> dict:
    guild = emu.create_guild("PLN")
    general = emu.create_channel(guild, "general")
    alice = emu.create_member(guild, "alice")
    bot = make_bot()

    @bot.tree.command(name="ping", description="Pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    await start_bot(bot)
    await bot.tree.sync()
    return {"guild": guild, "general": general, "alice": alice, "bot": bot}


async def ping(emu: DiscordEmulator, world: dict) -> str:
    interaction = await emu.invoke(world["alice"], "ping", channel=world["general"])
    return (await emu.wait_for_response(interaction)).content


async def test_rate_limited_message_is_retried_once_delivered(
    emu: DiscordEmulator, world: dict
) -> None:
    emu.faults.rate_limit("POST", MESSAGES, times=2, retry_after=0.01)
    channel = world["bot"].get_channel(world["general"].id)
    await channel.send("hello")
    assert [m.content for m in emu.history(world["general"])] == ["hello"]
    assert [s for _, _, s in emu.faults.served] == [429, 429]


async def test_server_error_on_interaction_reply_is_retried(
    emu: DiscordEmulator, world: dict
) -> None:
    emu.faults.server_error("POST", CALLBACK, times=1)  # discord.py waits 1 s before retrying
    assert await ping(emu, world) == "pong"
    assert emu.faults.pending() == 0


async def test_rate_limited_interaction_reply_is_retried(emu: DiscordEmulator, world: dict) -> None:
    emu.faults.rate_limit("POST", CALLBACK, times=1, retry_after=0.05)
    assert await ping(emu, world) == "pong"


@pytest.mark.parametrize("fault", ["reconnect", "drop"])
async def test_gateway_loss_is_resumed_and_missed_events_replayed(
    emu: DiscordEmulator, world: dict, fault: str
) -> None:
    bot: discord.Client = world["bot"]
    resumed = asyncio.Event()

    async def on_shard_resumed(shard_id: int) -> None:
        resumed.set()

    bot.add_listener(on_shard_resumed)
    if fault == "reconnect":
        assert await emu.gateway_reconnect() == 1
    else:
        assert await emu.gateway_drop() == 1
    # Dispatched while the client is away: must be replayed on RESUME.
    missed = emu.create_channel(world["guild"], "missed")
    await asyncio.wait_for(resumed.wait(), 5)
    await emu.wait_until(lambda: bot.get_channel(missed.id))
    assert emu.hub.resume_count == 1 and emu.hub.identify_count == 1
    assert await ping(emu, world) == "pong"


async def test_invalid_session_makes_the_client_identify_again(
    emu: DiscordEmulator, world: dict
) -> None:
    bot: discord.Client = world["bot"]

    async def identify_now(shard_id: int | None, *, initial: bool) -> None:
        """discord.py waits 5 s before re-identifying (Discord's identify limit); skip that."""

    bot.before_identify_hook = identify_now  # type: ignore[method-assign]
    assert await emu.gateway_invalidate_session(resumable=False) == 1
    await emu.wait_until(lambda: emu.hub.identify_count == 2)
    await emu.wait_for_bot_ready()
    assert await ping(emu, world) == "pong"


async def test_a_stall_before_the_handler_holds_the_request_until_released(
    emu: DiscordEmulator, world: dict
) -> None:
    stall = emu.faults.stall("POST", MESSAGES)
    channel = world["bot"].get_channel(world["general"].id)
    sending = asyncio.create_task(channel.send("held"))
    await stall.wait()
    assert emu.history(world["general"]) == [] and not sending.done()  # nothing happened yet
    stall.release()
    sent = await asyncio.wait_for(sending, 5)
    assert [m.id for m in emu.history(world["general"])] == [sent.id]
    await channel.send("not held")  # a stall holds `times` requests (1), then lets them by
    assert stall.held == 1 and emu.faults.pending() == 0


async def test_a_stall_after_the_handler_holds_the_answer_of_a_done_action(
    emu: DiscordEmulator, world: dict
) -> None:
    stall = emu.faults.stall("POST", MESSAGES, after_handler=True)
    channel = world["bot"].get_channel(world["general"].id)
    sending = asyncio.create_task(channel.send("made, not answered"))
    await stall.wait()
    [made] = emu.history(world["general"])  # the message exists; the client does not know yet
    assert made.content == "made, not answered" and not sending.done()
    stall.release()
    assert (await asyncio.wait_for(sending, 5)).id == made.id


async def test_a_stall_still_held_at_shutdown_is_dropped_before_its_handler(
    emu: DiscordEmulator, world: dict
) -> None:
    stall = emu.faults.stall("POST", MESSAGES)
    path = f"/channels/{world['general'].id}/messages"
    calling = asyncio.create_task(api(emu, "POST", path, {"content": "never"}))
    await stall.wait()
    emu.faults.drop_stalls()
    status, _ = await asyncio.wait_for(calling, 5)
    assert status == 503 and emu.history(world["general"]) == []


async def test_waiting_for_a_stall_that_never_comes_names_the_route(emu: DiscordEmulator) -> None:
    stall = emu.faults.stall("POST", MESSAGES, after_handler=True, limit=0.05)
    with pytest.raises(TimeoutError, match=r"no POST /channels/\{channel_id\}/messages .*after"):
        await stall.wait()

"""Members' stories with the real bot on the fake Discord."""

from __future__ import annotations

import re
import time

import discord
import pytest
from support.world import MakeWorld, World

from bot.core import PLNBot
from discord_emulator import EmulatorUsageError, Message, Permission

CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"


pytestmark = pytest.mark.e2e


@pytest.fixture
async def world(make_world: MakeWorld) -> World:
    return await make_world()


def field(message: Message, name: str) -> str:
    return next(
        f["value"] for e in message.embeds for f in e.get("fields", []) if f["name"] == name
    )


async def test_about_answers_privately(world: World) -> None:
    began = time.perf_counter()
    reply = await world.run(world.alice, "pln about")
    print(f"\n[e2e] /pln about round trip: {(time.perf_counter() - began) * 1000:.1f} ms")
    assert reply.ephemeral and reply.embeds[0]["title"] == "PLN bot"
    assert field(reply, "Version") == world.bot.version


async def test_moderator_sets_the_time_zone_and_it_persists(world: World) -> None:
    saved = await world.run(world.mod, "mod settings", {"timezone": "Europe/London"})
    assert saved.content == "Settings saved." and saved.ephemeral
    shown = await world.run(world.alice, "pln settings")
    assert field(shown, "Time zone") == "Europe/London"


async def test_time_zone_autocomplete(world: World) -> None:
    choices = await world.autocomplete(
        world.mod, "mod settings", {"timezone": "Europe/Lon"}, focused="timezone"
    )
    assert "Europe/London" in [c["value"] for c in choices]


async def test_member_cannot_change_settings(world: World) -> None:
    with pytest.raises(EmulatorUsageError, match="cannot see 'mod'"):
        await world.run(world.alice, "mod settings", {"timezone": "Asia/Tokyo"})
    # Shown to everyone by a server's admins, /mod is still checked by the bot.
    refused = await world.run(
        world.alice, "mod settings", {"timezone": "Asia/Tokyo"}, bypass_default_permissions=True
    )
    assert refused.ephemeral and "for moderators" in refused.content
    shown = await world.run(world.mod, "pln settings")
    assert field(shown, "Time zone") != "Asia/Tokyo"


async def test_moderator_role_mention_never_pings(world: World) -> None:
    emu = world.emu
    helpers = emu.create_role(world.guild, "helpers", mentionable=True)
    saved = await world.run(world.mod, "mod settings", {"moderator_role": helpers})
    assert f"<@&{helpers.id}>" in str(saved.embeds)
    assert (saved.mention_roles, saved.mention_everyone) == ([], False)


@pytest.mark.parametrize("fault", ["reconnect", "drop"])
async def test_bot_survives_a_gateway_loss(world: World, fault: str) -> None:
    emu = world.emu
    if fault == "reconnect":
        await emu.gateway_reconnect()
    else:
        await emu.gateway_drop()
    # Invoked while the bot is away: the event waits in the session and is replayed on RESUME.
    reply = await world.run(world.alice, "pln about")
    assert reply.embeds[0]["title"] == "PLN bot"
    assert emu.hub.resume_count == 1


async def test_bot_survives_an_invalid_session(world: World) -> None:
    emu = world.emu

    async def identify_now(shard_id: int | None, *, initial: bool) -> None:
        """discord.py waits 5 s before identifying again (Discord's rate limit); skip it here."""

    world.bot.before_identify_hook = identify_now  # type: ignore[method-assign]
    await emu.gateway_invalidate_session(resumable=False)
    await emu.wait_until(lambda: emu.hub.identify_count == 2)
    await emu.wait_for_bot_ready()
    assert (await world.run(world.alice, "pln about")).embeds


@pytest.mark.parametrize("status", [429, 500])
async def test_reply_is_retried_after_a_rest_error(world: World, status: int) -> None:
    emu = world.emu
    if status == 429:
        emu.faults.rate_limit("POST", CALLBACK, times=1, retry_after=0.05)
    else:
        emu.faults.server_error("POST", CALLBACK, times=1, status=status)
    reply = await world.run(world.alice, "pln about")
    assert reply.embeds[0]["title"] == "PLN bot" and emu.faults.pending() == 0
    answered = [r for r in emu.requests if r.template == CALLBACK]
    assert [r.status for r in answered] == [status, 200]


async def test_unexpected_error_gives_an_error_id(make_world: MakeWorld) -> None:
    def add_broken_command(bot: PLNBot) -> None:
        @bot.tree.command(name="broken", description="Fails on purpose (test only)")
        async def broken(interaction: discord.Interaction) -> None:
            raise RuntimeError("boom")

    world = await make_world(before_sync=add_broken_command)
    reply = await world.run(world.alice, "broken")
    assert reply.ephemeral and re.search(r"\b[0-9a-f]{8}\b", reply.content), reply.content


async def test_members_do_not_see_moderator_commands_and_moderators_do(world: World) -> None:
    synced = {c["name"]: c for c in world.emu.synced_commands()}
    mod = synced["mod"]
    assert int(mod["default_member_permissions"]) == int(Permission.MANAGE_GUILD)
    # A member's command works; the moderators' one is not even offered to them.
    assert (await world.run(world.alice, "topic list")).ephemeral
    with pytest.raises(EmulatorUsageError, match="cannot see 'mod'"):
        await world.run(world.alice, "mod topic create", {"name": "Sneaky"})
    # A member with Manage Server sees /mod without any admin override.
    owner = world.emu.create_member(world.guild, "owner", permissions=int(Permission.MANAGE_GUILD))
    shown = await world.run(owner, "mod settings", bypass_default_permissions=False)
    assert shown.embeds[0]["title"] == "Server settings"
    # The moderator role set with /mod settings works once admins grant /mod to it.
    listed = await world.run(world.mod, "mod schedule list")
    assert listed.ephemeral


async def test_a_command_is_not_offered_in_direct_messages(world: World) -> None:
    assert all(c.get("contexts") == [0] for c in world.emu.synced_commands())

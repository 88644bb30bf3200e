"""Slash commands, context menus, components, modals and autocomplete, from the synced schema."""

from __future__ import annotations

import asyncio

import discord
import pytest
from _support import StartBot, api, make_bot
from discord import app_commands
from discord.ext import commands

from discord_emulator import DiscordEmulator, EmulatorUsageError, Permission


class Confirm(discord.ui.View):
    @discord.ui.button(label="Yes", custom_id="confirm:yes")
    async def yes(
        self, interaction: discord.Interaction, button: discord.ui.Button[Confirm]
    ) -> None:
        await interaction.response.edit_message(content="confirmed", view=None)


class Feedback(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[Feedback] = discord.ui.TextInput(label="Text", custom_id="text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


def build_tree(bot: commands.AutoShardedBot) -> None:
    pln = app_commands.Group(name="pln", description="PLN")
    settings = app_commands.Group(name="settings", description="Settings", parent=pln)

    @settings.command(name="set", description="Set a value")
    @app_commands.choices(key=[app_commands.Choice(name="Zone", value="timezone")])
    async def set_(interaction: discord.Interaction, key: str, value: str, count: int = 1) -> None:
        await interaction.response.send_message(f"{key}={value} x{count}")

    @app_commands.command(name="secret", description="Ephemeral, for moderators")
    @app_commands.default_permissions(manage_guild=True)
    async def secret(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("shh", ephemeral=True)

    @pln.command(name="slow", description="Deferred")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("done")
        await interaction.followup.send("and more")

    @pln.command(name="confirm", description="Buttons")
    async def confirm(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("sure?", view=Confirm())

    @pln.command(name="feedback", description="Modal")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback())

    @pln.command(name="topic", description="Autocomplete")
    async def topic(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(name)

    @topic.autocomplete("name")
    async def topic_names(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=n, value=n)
            for n in ("python", "pytest")
            if n.startswith(current)
        ]

    @pln.command(name="who", description="User option")
    async def who(interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_message(f"that is {member.name}")

    @pln.command(name="twice", description="Answers twice")
    async def twice(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("one")
        await bot.http.request(  # a second initial response, bypassing discord.py's guard
            discord.http.Route(
                "POST",
                "/interactions/{interaction_id}/{token}/callback",
                interaction_id=interaction.id,
                token=interaction.token,
            ),
            json={"type": 4, "data": {"content": "two"}},
        )

    @pln.command(name="late", description="Too slow")
    async def late(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.1)  # the emulator's deadline is lowered to 0.05 s in this test
        await interaction.response.send_message("late")

    @app_commands.context_menu(name="Profile")
    async def profile(interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_message(f"profile of {member.name}", ephemeral=True)

    @app_commands.context_menu(name="Quote")
    async def quote(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"> {message.content}")

    bot.tree.add_command(pln)
    bot.tree.add_command(secret)
    bot.tree.add_command(profile)
    bot.tree.add_command(quote)


@pytest.fixture
async def world(emu: DiscordEmulator, start_bot: StartBot) -> dict:
    guild = emu.create_guild("PLN")
    general = emu.create_channel(guild, "general")
    alice = emu.create_member(guild, "alice")
    mod = emu.create_member(guild, "mod", permissions=int(Permission.MANAGE_GUILD))
    bot = make_bot()
    build_tree(bot)
    await start_bot(bot)
    await bot.tree.sync()
    return {"guild": guild, "general": general, "alice": alice, "mod": mod, "bot": bot}


async def test_slash_command_with_subcommand_group_and_options(
    emu: DiscordEmulator, world: dict
) -> None:
    interaction = await emu.invoke(
        world["alice"],
        "pln settings set",
        {"key": "timezone", "value": "Europe/London"},
        channel=world["general"],
    )
    reply = await emu.wait_for_response(interaction)
    assert reply.content == "timezone=Europe/London x1" and not reply.ephemeral
    assert reply.type == 20 and reply in emu.history(world["general"])


@pytest.mark.parametrize(
    ("command", "options", "problem"),
    [
        ("pln nothing", {}, "no subcommand"),
        ("unsynced", {}, "no synced command"),
        ("pln settings set", {"key": "timezone"}, "missing required option 'value'"),
        ("pln settings set", {"key": "timezone", "value": "x", "count": "2"}, "expects an integer"),
        ("pln settings set", {"key": "colour", "value": "x"}, "one of"),
        ("pln settings set", {"key": "timezone", "value": "x", "extra": 1}, "unknown options"),
    ],
)
async def test_invalid_invocations_fail_the_test(
    emu: DiscordEmulator, world: dict, command: str, options: dict, problem: str
) -> None:
    with pytest.raises(EmulatorUsageError, match=problem):
        await emu.invoke(world["alice"], command, options, channel=world["general"])


async def test_default_member_permissions_hide_commands_unless_bypassed(
    emu: DiscordEmulator, world: dict
) -> None:
    with pytest.raises(EmulatorUsageError, match="cannot see"):
        await emu.invoke(world["alice"], "secret", channel=world["general"])
    forced = await emu.invoke(
        world["alice"], "secret", channel=world["general"], bypass_default_permissions=True
    )
    assert (await emu.wait_for_response(forced)).ephemeral
    by_mod = await emu.invoke(world["mod"], "secret", channel=world["general"])
    reply = await emu.wait_for_response(by_mod)
    assert reply.ephemeral and reply not in emu.history(world["general"])
    assert reply in emu.ephemeral_messages(world["mod"])


async def test_deferred_reply_and_followups(emu: DiscordEmulator, world: dict) -> None:
    interaction = await emu.invoke(world["alice"], "pln slow", channel=world["general"])
    reply = await emu.wait_for_response(interaction)
    assert reply.content == "done" and not reply.loading
    # The first follow-up after a deferral fills in the "thinking..." reply.
    assert (await emu.wait_for_followup(interaction, 0)).id == reply.id
    assert (await emu.wait_for_followup(interaction, 1)).content == "and more"


async def test_buttons_update_their_message(emu: DiscordEmulator, world: dict) -> None:
    interaction = await emu.invoke(world["alice"], "pln confirm", channel=world["general"])
    question = await emu.wait_for_response(interaction)
    click = await emu.click(world["alice"], question, "Yes")
    updated = await emu.wait_for_response(click)
    assert updated.id == question.id and updated.content == "confirmed" and updated.components == []


async def test_modal_round_trip(emu: DiscordEmulator, world: dict) -> None:
    interaction = await emu.invoke(world["alice"], "pln feedback", channel=world["general"])
    modal = await emu.wait_for_modal(interaction)
    assert modal["title"] == "Feedback"
    submitted = await emu.submit_modal(world["alice"], interaction, {"text": "great"})
    reply = await emu.wait_for_response(submitted)
    assert reply.content == "thanks: great" and reply.ephemeral


async def test_autocomplete_returns_choices(emu: DiscordEmulator, world: dict) -> None:
    choices = await emu.autocomplete(
        world["alice"], "pln topic", {"name": "py"}, focused="name", channel=world["general"]
    )
    assert [c["value"] for c in choices] == ["python", "pytest"]


async def test_user_option_and_context_menus(emu: DiscordEmulator, world: dict) -> None:
    who = await emu.invoke(
        world["mod"], "pln who", {"member": world["alice"]}, channel=world["general"]
    )
    assert (await emu.wait_for_response(who)).content == "that is alice"
    profile = await emu.invoke_user_command(
        world["mod"], "Profile", world["alice"], channel=world["general"]
    )
    assert (await emu.wait_for_response(profile)).content == "profile of alice"
    said = await emu.post_message(world["alice"], world["general"], "wise words")
    quote = await emu.invoke_message_command(world["mod"], "Quote", said)
    assert (await emu.wait_for_response(quote)).content == "> wise words"


async def test_second_initial_response_is_a_violation(emu: DiscordEmulator, world: dict) -> None:
    interaction = await emu.invoke(world["alice"], "pln twice", channel=world["general"])
    await emu.wait_for_response(interaction)
    violation = await emu.wait_until(lambda: emu.take_violations())
    assert "second initial response" in violation[0].reason


async def test_late_initial_response_is_unknown_interaction(
    emu: DiscordEmulator, world: dict
) -> None:
    emu.interaction_deadline = 0.05
    await emu.invoke(world["alice"], "pln late", channel=world["general"])
    violations = await emu.wait_until(lambda: emu.take_violations())
    assert "initial response after" in violations[0].reason
    assert any(r.status == 404 for r in emu.requests if r.template.endswith("/callback"))


async def test_command_tree_rules(emu: DiscordEmulator) -> None:
    path = f"/applications/{emu.application_id}/commands"
    bad = [
        {"name": "Bad Name", "description": "x", "type": 1},
        {"name": "ok", "description": "", "type": 1},
        {
            "name": "order",
            "description": "x",
            "type": 1,
            "options": [
                {"name": "a", "description": "x", "type": 3},
                {"name": "b", "description": "x", "type": 3, "required": True},
            ],
        },
    ]
    status, body = await api(emu, "PUT", path, bad)
    assert (status, body["code"]) == (400, 50035)
    reason = emu.take_violations()[0].reason
    assert (
        "invalid name 'Bad Name'" in reason and "1-100" in reason and "required options" in reason
    )
    too_many = [{"name": f"c{i}", "description": "x", "type": 1} for i in range(101)]
    assert (await api(emu, "PUT", path, too_many))[0] == 400
    assert "at most 100" in emu.take_violations()[0].reason

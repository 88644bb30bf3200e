"""Meta-tests: every cog loads, command names are unique, and the tree fits Discord's limits."""

from __future__ import annotations

from collections import Counter

from discord import app_commands

from bot.core import extension_names
from bot.emulator import rules

from .conftest import RunningBot


def test_every_extension_under_cogs_loads(running_bot: RunningBot) -> None:
    assert sorted(running_bot.bot.extensions) == extension_names()


def test_no_two_commands_share_a_name(running_bot: RunningBot) -> None:
    tree = running_bot.bot.tree
    names: Counter[tuple[str, str]] = Counter()
    for command in tree.walk_commands():
        kind = "menu" if isinstance(command, app_commands.ContextMenu) else "slash"
        names[(kind, command.qualified_name)] += 1
    assert [name for name, count in names.items() if count > 1] == []


def test_the_synced_tree_passes_discords_rules(running_bot: RunningBot) -> None:
    emu = running_bot.emulator
    synced = emu.synced_commands()
    assert len(synced) == len(running_bot.bot.tree.get_commands(type=None))
    # The sync itself was checked (a violation fails the test at teardown); check again here so a
    # failure names the rule.
    problems = rules.check_command_tree(synced, is_global=True)
    assert not problems, problems.reason()
    assert emu.violations == []

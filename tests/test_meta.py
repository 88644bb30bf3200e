"""Meta-tests: every cog loads, command names are unique, and the tree fits Discord's limits."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from discord import app_commands
from support.world import MakeWorld, World

import cogs
from bot.app import EXTENSIONS
from discord_emulator import rules


@pytest.fixture
async def world(make_world: MakeWorld) -> World:
    return await make_world()


def test_every_feature_package_under_cogs_is_an_extension_and_loads(world: World) -> None:
    packages = sorted(
        f"cogs.{path.parent.name}" for path in Path(cogs.__file__).parent.glob("*/__init__.py")
    )
    assert sorted(EXTENSIONS) == packages
    assert sorted(world.bot.extensions) == packages


def test_no_two_commands_share_a_name(world: World) -> None:
    tree = world.bot.tree
    names: Counter[tuple[str, str]] = Counter()
    for command in tree.walk_commands():
        kind = "menu" if isinstance(command, app_commands.ContextMenu) else "slash"
        names[(kind, command.qualified_name)] += 1
    assert [name for name, count in names.items() if count > 1] == []


def test_the_synced_tree_passes_discords_rules(world: World) -> None:
    emu = world.emu
    synced = emu.synced_commands()
    assert len(synced) == len(world.bot.tree.get_commands(type=None))
    # The sync itself was checked (a violation fails the test at teardown); check again here so a
    # failure names the rule.
    problems = rules.check_command_tree(synced, is_global=True)
    assert not problems, problems.reason()
    assert emu.violations == []

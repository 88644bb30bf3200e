"""Meta-tests: every cog loads, command names are unique, and the tree fits Discord's limits."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

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


def synced_paths(commands: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every invocable slash command of the synced payload, by path ("mod topic create")."""
    paths: dict[str, dict[str, Any]] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        children = [o for o in node.get("options") or [] if o["type"] in (1, 2)]
        if not children:
            paths[prefix] = node
        for child in children:
            walk(f"{prefix} {child['name']}", child)

    for command in commands:
        if int(command.get("type", 1)) == 1:
            walk(command["name"], command)
    return paths


def test_moderator_commands_are_hidden_and_every_command_is_guild_only(world: World) -> None:
    synced = world.emu.synced_commands()
    for command in synced:
        # Where a command works: inside servers only (never DMs or group DMs).
        assert command.get("contexts") == [0], command["name"]
        hidden = command.get("default_member_permissions") is not None
        assert hidden == (command["name"] == "mod"), command["name"]
    moderator_paths = [p for p in synced_paths(synced) if p.startswith("mod ")]
    assert len(moderator_paths) > 20  # every feature's moderator commands live under /mod


README_ROW = re.compile(r"^\| (`[^|]*`[^|]*) \| ([^|]+) \|", re.M)


def readme_commands(text: str, known: set[str]) -> dict[str, str]:
    """The README's command tables: each command path and its "who" column.

    A cell may name several commands (`/chat pause` / `resume`); one written without its group
    (`resume`) belongs to the group of the one before it.
    """
    found: dict[str, str] = {}
    for cell, who in README_ROW.findall(text):
        group: list[str] = []
        for item in re.findall(r"`([^`]+)`", cell):
            words = item.lstrip("/").split()
            words = words if item.startswith("/") else [*group, *words]
            path = next(
                (
                    " ".join(words[:n])
                    for n in range(len(words), 0, -1)
                    if " ".join(words[:n]) in known
                ),
                None,
            )
            if path is None:
                continue
            found[path] = who.strip()
            group = path.split()[:-1]
    return found


def test_the_readme_lists_every_command_with_who_may_use_it(world: World) -> None:
    paths = set(synced_paths(world.emu.synced_commands()))
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    documented = readme_commands(readme, paths)
    assert sorted(paths - set(documented)) == []  # every command is in the README
    for path, who in documented.items():
        # The README says "moderators" exactly for the commands hidden under /mod and checked.
        assert (who == "moderators") == path.startswith("mod "), (path, who)

"""The demo's parts: its command table, its clock, its offline guard, the way it shows text."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from discord import app_commands
from msgspec.structs import replace
from support.world import MakeWorld, World

import pln_demo
from bot.errors import ConfigError
from bot.settings import Settings
from pln_demo.cli import _keep_folder, demo_settings, first_monday_after, require_offline
from pln_demo.clock import DemoClock
from pln_demo.commands import Command
from pln_demo.render import PlainView
from pln_demo.story import STORY, Play, Step
from pln_demo.text import Markup, timestamp
from pln_demo.transcript import EmbedText, Entry


async def test_every_command_the_story_uses_is_in_the_bots_tree(make_world: MakeWorld) -> None:
    world: World = await make_world()
    names = {
        c.qualified_name
        for c in world.bot.tree.walk_commands()
        if not isinstance(c, app_commands.ContextMenu)
    }
    assert [command.value for command in Command if command.value not in names] == []


def test_the_clock_flows_and_jumps_forward_only() -> None:
    ticks = [100.0]
    start = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    clock = DemoClock(start, monotonic=lambda: ticks[0])
    ticks[0] += 2.5
    assert clock.now() == start + timedelta(seconds=2.5)
    thursday = start + timedelta(days=3)
    assert clock.jump_to(thursday) == thursday
    assert clock.jump_to(start) == thursday  # never backwards
    ticks[0] += 60
    assert clock.now() == thursday + timedelta(minutes=1)


def test_the_week_is_the_next_one() -> None:
    zone = ZoneInfo("America/New_York")
    for day in range(7, 14):  # Monday 7 to Sunday 13 December 2026
        monday = first_monday_after(datetime(2026, 12, day, 15, 0, tzinfo=zone))
        assert monday == datetime(2026, 12, 14, tzinfo=zone)


def test_the_demo_never_talks_to_discord_nor_fetches_pages() -> None:
    settings = demo_settings_for_tests()
    require_offline(settings)  # the emulator on 127.0.0.1: fine
    real = replace(
        settings, discord=replace(settings.discord, api_base_url="https://discord.com/api/v10")
    )
    with pytest.raises(ConfigError, match=r"discord.api_base_url = 'https://discord.com/api/v10'"):
        require_offline(real)
    fetching = replace(settings, web=replace(settings.web, fetch_pages=True))
    with pytest.raises(ConfigError, match="fetches nothing"):
        require_offline(fetching)


def demo_settings_for_tests() -> Settings:
    class FakeEmulator:
        token = "MTIz.emulator.token"
        api_base_url = "http://127.0.0.1:9999/api/v10"
        gateway_url = "ws://127.0.0.1:9999/gateway"

    return demo_settings(FakeEmulator(), Path("/tmp/demo.db"))  # type: ignore[arg-type]


def test_keep_refuses_a_used_folder_and_the_bots_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _keep_folder(tmp_path / "new") == tmp_path / "new"
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "pln.db").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"already holds pln\.db"):
        _keep_folder(tmp_path / "used")
    with pytest.raises(ConfigError, match="where the bot keeps its own"):
        _keep_folder(Path("data"))
    assert not (tmp_path / "data").exists()


def test_markup_reads_as_a_member_sees_it() -> None:
    names = {1: "ana", 2: "Moderators", 3: "#maths"}
    markup = Markup(user=names.__getitem__, role=names.__getitem__, channel=names.__getitem__)
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    thursday = int(datetime(2026, 12, 11, 0, 0, tzinfo=UTC).timestamp())  # Thu 19:00 New York
    text = (
        f"<@1> and <@&2>: the chat is <t:{thursday}:F> (<t:{thursday}:R>), "
        "[jump](https://discord.com/channels/9/3/4), America/New\\_York"
    )
    assert markup.readable(text, ZoneInfo("Pacific/Auckland"), now) == (
        "@ana and @Moderators: the chat is Friday 11 December 2026 13:00 NZDT (in 4 days), "
        "jump (→ #maths), America/New_York"
    )
    assert timestamp(thursday, "t", ZoneInfo("America/New_York"), now) == "19:00 EST"


def test_the_plain_view_marks_what_only_one_member_sees() -> None:
    out = io.StringIO()
    view = PlainView(out)
    view.show(
        Entry(
            "message",
            "2026-12-08T10:15:00-05:00",
            "This link was already shared by **@ana**.",
            who="PLN bot",
            channel="#general",
            only_for="ben",
            bot=True,
            reply=True,
            embeds=(EmbedText(title="Teaching fractions", fields=(("Tags", "`k-12`"),)),),
            components=("[🔖 Save]",),
        )
    )
    assert out.getvalue().splitlines() == [
        "10:15 #general  PLN bot ↳ (only ben sees this)",
        "        This link was already shared by @ana.",
        "        ┃ Teaching fractions",
        "        ┃ Tags: `k-12`",
        "        [🔖 Save]",
    ]


async def test_a_step_that_does_not_happen_stops_the_demo_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    _restore_discord_endpoints: None,
) -> None:
    """Played in-process with a story whose third step expects what never comes."""

    async def never(play: Play) -> None:
        await play.director.until("a message nobody posts", lambda: None)

    monkeypatch.setattr("pln_demo.director.WAIT_SECONDS", 0.2)
    short = (*STORY[:2], Step("never", "Something that never happens", never))
    monkeypatch.setattr("pln_demo.cli.STORY", short)
    args = argparse.Namespace(
        fast=True, keep=tmp_path / "kept", interactive=False, debug=False, config=None
    )

    code = await pln_demo.main(args)

    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "plnbot demo: step 'never' (Something that never happens) failed: "
        "waited 0 s for a message nobody posts"  # 0.2 s, shown to the second
    )
    transcript = json.loads((tmp_path / "kept" / "transcript.json").read_text())
    assert transcript["outcome"] == "failed"
    assert [(s["name"], s["ok"]) for s in transcript["steps"]] == [
        ("server-settings", True),
        ("topics", True),
        ("never", False),
    ]

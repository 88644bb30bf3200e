"""`plnbot demo` as a newcomer runs it: a real child process, the whole week, its transcript.

The story checks itself as it plays (a step whose result members would not see stops the demo
with exit code 1); this test reads the JSON transcript it keeps and checks that every step
happened, in order, with what members saw, and nothing logged as an error.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from support.cli import run_plnbot

from pln_demo.commands import Command
from pln_demo.story import CHAT_TITLE, FEEDBACK, PIZZA, PROMPTS, QUESTIONS, READING, STORY
from pln_demo.text import plain

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DEMO_SECONDS = 30


def entries(transcript: dict[str, Any], step: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [
        e
        for e in transcript["entries"]
        if e["step"] == step and (kind is None or e["kind"] == kind)
    ]


def seen(entry: dict[str, Any]) -> str:
    """What a member reads in a message entry: its text and its embeds'."""
    parts = [entry["text"]]
    for embed in entry["embeds"]:
        parts += [embed["title"], embed["description"], embed["footer"]]
        parts += [f"{name} {value}" for name, value in embed["fields"]]
    return "\n".join(parts)


async def test_the_demo_plays_the_whole_week_in_order(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    began = time.perf_counter()
    result = await run_plnbot("demo", "--fast", "--keep", str(kept), cwd=tmp_path, limit=120)
    seconds = time.perf_counter() - began

    assert result.code == 0, result.err
    assert seconds < DEMO_SECONDS, f"the demo took {seconds:.1f} s"
    assert "Traceback" not in result.out + result.err
    transcript = json.loads((kept / "transcript.json").read_text(encoding="utf-8"))
    names = [step.name for step in STORY]
    assert transcript["outcome"] == "ok" and transcript["error"] is None
    assert [s["name"] for s in transcript["steps"]] == names
    assert all(s["ok"] for s in transcript["steps"]), transcript["steps"]
    assert [e["step"] for e in transcript["entries"] if e["kind"] == "step"] == names
    logged = [e for e in transcript["entries"] if e["kind"] == "log"]
    assert [e for e in logged if e["level"] in ("ERROR", "CRITICAL")] == []
    log = (kept / "demo.log").read_text(encoding="utf-8")
    assert " ERROR " not in log and " CRITICAL " not in log and "Traceback" not in log

    # What members saw, step by step.
    created = entries(transcript, "topics", "command")
    assert [e["who"] for e in created] == ["mona"] * 4
    assert all(e["text"].startswith(Command.CREATE_TOPIC.typed) for e in created)
    assert len(entries(transcript, "follow", "select")) == 12
    upcoming = entries(transcript, "upcoming", "message")[0]
    assert upcoming["only_for"] == "kai" and "NZDT" in seen(upcoming)  # his zone, not New York's
    notice = [e for e in entries(transcript, "reshare", "message") if e["only_for"] == "ben"]
    assert "Already in the library: @ana shared this" in seen(notice[0])  # and no second card
    assert not [e for e in entries(transcript, "reshare", "message") if e["only_for"] is None]
    shared = entries(transcript, "share", "command")[0]["text"]
    assert "utm_source=newsletter" in shared  # tracking parameters and all
    assert any("feedback-loops" in e["text"] for e in entries(transcript, "capture", "note"))
    prompt = entries(transcript, "prompt", "message")
    assert prompt[0]["bot"] and not prompt[0]["reply"] and PROMPTS[0] in prompt[0]["text"]
    search = [e for e in entries(transcript, "search-save", "message") if e["only_for"] == "lee"]
    assert any(FEEDBACK in seen(e) and "Library search" in seen(e) for e in search)
    assert any("Saved resource" in e["text"] for e in search)
    chat = [e for e in entries(transcript, "chat-hour", "message") if e["bot"]]
    assert all(e["channel"].startswith(f"#general › {CHAT_TITLE}") for e in chat)
    asked = [plain(e["text"]) for e in chat if plain(e["text"]).startswith("Q")]
    assert [text.split("\n")[0] for text in asked] == [
        f"Q{n} {question}" for n, question in enumerate(QUESTIONS, start=1)
    ]
    answers = [e for e in entries(transcript, "chat-hour", "message") if not e["bot"]]
    assert len(answers) == 8
    assert any("summary" in e["text"] for e in entries(transcript, "chat-summary", "message"))
    recap = "\n".join(seen(e) for e in entries(transcript, "recap", "message"))
    assert recap.index(FEEDBACK) < recap.index(PIZZA) < recap.index(READING)
    digest = [e for e in entries(transcript, "digest", "message") if e["channel"] == "DM with hana"]
    assert PIZZA in seen(digest[0]) and READING not in seen(digest[0])

    # The conversation on standard output (plain: not a terminal), and what --keep kept.
    assert f"ana › {Command.SHARE.typed} url:" in result.out
    assert "(only ben sees this)" in result.out
    database = sqlite3.connect(kept / "pln.db")
    try:
        assert database.execute("SELECT count(*) FROM library_resources").fetchone()[0] >= 4
    finally:
        database.close()
    assert not (tmp_path / "data").exists()  # never the real bot's data/pln.db


async def test_the_interactive_demo_takes_commands_as_members_and_the_moderator(
    tmp_path: Path,
) -> None:
    typed = "\n".join(
        [
            f"{Command.SEARCH.typed} feedback",
            f"as mona {Command.RECAP_NOW.typed}",
            f'as kai in #maths {Command.SHARE.typed} url:https://example.org/read title:"A read"',
            "as lee click Save",
            f"as nobody {Command.SAVED.typed}",
            "/nope",
            "quit",
        ]
    )
    result = await run_plnbot(
        "demo", "--fast", "--interactive", cwd=tmp_path, stdin=typed + "\n", limit=120
    )

    assert result.code == 0, result.err
    after = result.out.split("Your turn", 1)[1]
    assert f"ana › {Command.SEARCH.typed} query:feedback" in after
    assert f"mona › {Command.RECAP_NOW.typed}" in after and "Posted the recap" in after
    assert "#maths  kai › /share url:https://example.org/read" in after
    assert "lee clicks [🔖 Save]" in after and "(only lee sees this)" in after
    assert "✗ no one here is called 'nobody'" in after
    assert "✗ there is no /nope" in after

"""The learning log's lines in the recap and the digest read right and keep names safe."""

from __future__ import annotations

from bot.learning.records import CommunityWeek, MemberWeek
from cogs.learning.lines import learning_line, own_week_line
from cogs.recap.render import render_digest


def test_the_recap_line_counts_and_names_streaks_safely() -> None:
    line = learning_line(CommunityWeek(3, 95, ((1, "@everyone *bold*", 12), (2, "", 4))))
    assert line.startswith("⏱️ **3 members** logged **1 h 35 min** of learning")
    assert "longest streaks: " in line and "a member 🔥 4" in line
    assert "@everyone" not in line.replace("@\u200beveryone", "")  # neutralised
    assert "\\*bold\\*" in line


def test_the_digest_shows_ones_own_week_only_when_there_is_one() -> None:
    assert own_week_line(MemberWeek(0, 0, 0)) == ""
    parts = render_digest(1, "PLN", [], learning=MemberWeek(140, 5, 12))
    text = "\n".join(e.description or "" for p in parts for e in p.embeds)
    assert "⏱️ Your week: 2 h 20 min of learning on 5 days · streak 🔥 12 days" in text
    plain = render_digest(1, "PLN", [])
    assert "Your week" not in "\n".join(e.description or "" for p in plain for e in p.embeds)

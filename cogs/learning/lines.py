"""The learning log's lines in other features' messages: the weekly recap, the digest."""

from __future__ import annotations

from bot.learning.records import CommunityWeek, MemberWeek
from bot.ui.text import safe_text
from bot.wording import plural
from cogs.learning._render import minutes_text


def learning_line(week: CommunityWeek) -> str:
    """⏱️ 5 members logged 12 h 30 min of learning · longest streaks: …"""
    text = (
        f"⏱️ **{plural(week.members, 'member')}** logged **{minutes_text(week.minutes)}** "
        "of learning"
    )
    if week.streaks:
        shown = ", ".join(
            f"{safe_text(name, 40) if name else 'a member'} 🔥 {days}"
            for _member, name, days in week.streaks
        )
        text += f" · longest streaks: {shown}"
    return text


def own_week_line(week: MemberWeek) -> str:
    """The digest's "your week" line; empty when there is nothing to say."""
    if not week.minutes and not week.streak:
        return ""
    text = f"⏱️ Your week: {minutes_text(week.minutes)} of learning on {plural(week.days, 'day')}"
    if week.streak:
        text += f" · streak 🔥 {plural(week.streak, 'day')}"
    return text

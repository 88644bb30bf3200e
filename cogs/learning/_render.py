"""How the learning log reads: log answers, progress embeds, paths. Member text is made safe."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.learning.records import Level, LogResult, Progress, PublicProgress, Step, TopicMinutes
from bot.learning.streaks import Streak
from bot.ui.text import safe_text, shorten
from bot.wording import plural

COLOUR = discord.Colour.green()
HEATMAP = "heatmap.png"
TOPICS_CHART = "topics.png"


def minutes_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def streak_text(streak: Streak) -> str:
    if streak.current == 0:
        text = "no streak yet" if streak.best == 0 else "no current streak"
    else:
        text = f"🔥 {plural(streak.current, 'day')}"
        if streak.grace_days:
            text += f" (kept alive by {plural(len(streak.grace_days), 'grace day')})"
        if streak.at_stake:
            text += ", at stake today"
    return f"{text} · best {plural(streak.best, 'day')}"


def goal_text(today_total: int, goal: int) -> str:
    if today_total >= goal:
        return f"{minutes_text(today_total)} today, goal of {goal} min met ✅"
    return f"{minutes_text(today_total)} today, {goal - today_total} min to your goal of {goal}"


def logged(result: LogResult, topic_name: str | None) -> str:
    where = f" on **{safe_text(topic_name, 100)}**" if topic_name else ""
    lines = [
        f"Logged {minutes_text(result.minutes)}{where}.",
        goal_text(result.today_total, result.goal) + ".",
        f"Streak: {streak_text(result.streak)}.",
    ]
    if result.resource_id is not None:
        state = "added to" if result.shared_new else "already in"
        lines.append(f"The link is {state} the library as resource #{result.resource_id}.")
    lines += [m.text for m in result.milestones]
    return "\n".join(lines)


def _by_topic(items: Sequence[TopicMinutes]) -> str:
    if not items:
        return "nothing logged"
    lines = [
        f"{safe_text(t.name, 60) if t.name else 'no topic'}: {minutes_text(t.minutes)}"
        for t in items[:8]
    ]
    return shorten("\n".join(lines), 1000)


def levels_text(levels: Sequence[Level]) -> str:
    return shorten(
        "\n".join(
            f"{safe_text(lv.topic_name, 60)}: {lv.label} ({lv.done}/{lv.total} done)"
            for lv in levels
        ),
        1000,
    )


def progress_embed(progress: Progress, name: str, *, chart: bool) -> discord.Embed:
    embed = discord.Embed(title=shorten(f"📈 {name}'s learning", 256), colour=COLOUR)
    embed.description = (
        f"Today: {goal_text(progress.today_minutes, progress.goal)}\n"
        f"Streak: {streak_text(progress.streak)}\n"
        f"Days are counted in {progress.timezone}."
    )
    embed.add_field(
        name=f"This week · {minutes_text(progress.week_total)}",
        value=_by_topic(progress.week),
        inline=True,
    )
    embed.add_field(
        name=f"This month · {minutes_text(progress.month_total)}",
        value=_by_topic(progress.month),
        inline=True,
    )
    if progress.levels:
        embed.add_field(name="Paths", value=levels_text(progress.levels), inline=False)
    embed.set_image(url=f"attachment://{HEATMAP}")
    footer = "The last 52 weeks, one square a day: darker is more minutes."
    if chart:
        footer += " Second picture: minutes per topic per week."
    embed.set_footer(text=footer)
    return embed


def topics_embed() -> discord.Embed:
    embed = discord.Embed(title="Minutes per topic, last 12 weeks", colour=COLOUR)
    embed.set_image(url=f"attachment://{TOPICS_CHART}")
    return embed


def public_embed(progress: PublicProgress, name: str) -> discord.Embed:
    embed = discord.Embed(title=shorten(f"📈 {name}'s learning", 256), colour=COLOUR)
    embed.description = f"Streak: {streak_text(progress.streak)}"
    if progress.levels:
        embed.add_field(name="Paths", value=levels_text(progress.levels), inline=False)
    return embed


def path_embed(topic_name: str, steps: Sequence[Step]) -> discord.Embed:
    embed = discord.Embed(title=shorten(f"🧭 The {topic_name} path", 256), colour=COLOUR)
    by_level: dict[int, list[Step]] = {}
    for step in steps:
        by_level.setdefault(step.level, []).append(step)
    for index, (level, items) in enumerate(sorted(by_level.items())):
        if index >= 25:
            break
        label = f"Level {level}" + (" · start here" if index == 0 else "")
        value = "\n".join(
            f"{'✅' if s.done else '▫️'} #{s.resource_id} {safe_text(s.title, 80)}" for s in items
        )
        embed.add_field(name=label, value=shorten(value, 1000), inline=False)
    embed.set_footer(text="/path start to follow it · /path next · /path done")
    return embed


def step_text(topic_name: str, step: Step) -> str:
    return (
        f"Next on the **{safe_text(topic_name, 100)}** path (level {step.level}): "
        f"#{step.resource_id} **{safe_text(step.title, 200)}**\n<{step.url}>\n"
        f"Mark it with `/path done resource_id:{step.resource_id}` once read."
    )

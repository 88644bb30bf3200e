"""How chats read in Discord: the lines and pages of /chat upcoming and /mod chat list."""

from __future__ import annotations

import discord

from bot.chats.service import ChatInfo
from bot.ui.text import safe_text, shorten
from bot.wording import discord_timestamp, plural


def chat_line(chat: ChatInfo) -> str:
    when = (
        f"{discord_timestamp(chat.next_start.timestamp(), 'F')} "
        f"({discord_timestamp(chat.next_start.timestamp(), 'R')})"
        if chat.next_start
        else "no upcoming run"
    )
    minutes = int(chat.duration.total_seconds() // 60)
    return f"<#{chat.channel_id}> · next {when} · {minutes} min"


def chat_pages(title: str, chats: list[ChatInfo], *, detail: bool) -> list[discord.Embed]:
    pages = []
    for start in range(0, len(chats), 8):
        embed = discord.Embed(title=title, colour=discord.Colour.blurple())
        for chat in chats[start : start + 8]:
            value = chat_line(chat)
            if detail and chat.rule is not None:
                questions = plural(len(chat.questions), "question")
                value += f"\n{safe_text(chat.rule.describe(), 300)} · {questions}"
            embed.add_field(
                name=shorten(f"#{chat.id} {chat.title}", 256), value=value[:1024], inline=False
            )
        pages.append(embed)
    return pages or [discord.Embed(title=title, description="No chats scheduled.")]

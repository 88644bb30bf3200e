"""/chat: the weekly chat hour (announcement, Q1..Qn in a thread, summary)."""

from __future__ import annotations

from bot.core import PLNBot
from cogs.chats._cog import Chats


async def setup(bot: PLNBot) -> None:
    await bot.add_cog(Chats(bot))

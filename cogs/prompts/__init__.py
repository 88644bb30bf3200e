"""/prompt: the prompt bank, members' suggestions, and prompts posted on schedule."""

from __future__ import annotations

from bot.core import PLNBot
from cogs.prompts._cog import Prompts


async def setup(bot: PLNBot) -> None:
    await bot.add_cog(Prompts(bot))

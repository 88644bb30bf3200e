"""/ask, /questions, /solved, /thanks and the contribution commands: give and take."""

from __future__ import annotations

from bot.core import PLNBot
from cogs.questions._cog import Questions


async def setup(bot: PLNBot) -> None:
    await bot.add_cog(Questions(bot))

"""/me: a member's own settings here (privacy)."""

from __future__ import annotations

from bot.core import PLNBot
from cogs.members._cog import Me


async def setup(bot: PLNBot) -> None:
    await bot.add_cog(Me(bot))

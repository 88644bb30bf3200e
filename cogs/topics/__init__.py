"""/topic: members follow topic channels; moderators create, edit, archive and repair them."""

from __future__ import annotations

from bot.core import PLNBot
from cogs.topics._cog import Topics


async def setup(bot: PLNBot) -> None:
    await bot.add_cog(Topics(bot))

"""/pln: about this bot and the server's settings."""

from __future__ import annotations

from bot.core import PLNBot
from cogs.server._cog import PLN


async def setup(bot: PLNBot) -> None:
    await bot.add_cog(PLN(bot))

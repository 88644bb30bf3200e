"""The resource library: /share, /search, /saved, /library, the Save button and capture."""

from __future__ import annotations

from bot.core import PLNBot
from cogs.library._cog import Library


async def setup(bot: PLNBot) -> None:
    await bot.add_cog(Library(bot))

"""One package per feature; each package's `setup` adds its cogs (listed in `bot.app`)."""

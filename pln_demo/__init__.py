"""`plnbot demo`: the whole bot, offline, in one command.

The Discord emulator runs in-process with a sample learning community; the real bot (settings,
migrations, the real discord.py client: the code path of `plnbot run`) connects to it; a
scripted week plays on a fast clock and the terminal shows it as a conversation. Nothing here is
imported by the bot, its cogs or the emulator: `bot/cli.py` names this package and imports it
only when `plnbot demo` runs.

Modules: `commands` (every command name the story uses, in one table), `community` (the sample
server and its people), `clock`, `director` (members acting, the clock moving), `story` (the
week, step by step), `transcript` and `render` (what the terminal and the JSON transcript show),
`interactive` (typing commands afterwards) and `cli` (the command itself).
"""

from pln_demo.cli import main

__all__ = ["main"]

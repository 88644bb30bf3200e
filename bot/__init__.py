"""PLN bot: a self-hosted Discord bot for running a Personal Learning Network."""

# The one place the version is written: pyproject.toml reads it from here. (Asking
# importlib.metadata at start-up would scan every installed package, about 0.8 MiB.)
__version__ = "0.1.0"

"""PLN bot: a self-hosted Discord bot for running a Personal Learning Network."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pln-bot")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+source"

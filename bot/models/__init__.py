"""The declarative base and column types every feature's models share (`bot.models.base`).

Each feature keeps its own tables in `bot/<feature>/models.py`; `bot.schema` imports them all.
"""

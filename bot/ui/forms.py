"""The base of every modal: members' text comes in cleaned, and errors take the one error path.

    class ReasonForm(Form, title="Reject"):
        where = "approval (reject)"
        reason = TextField(label="Reason", custom_id="reason", required=False)
        async def on_submit(self, interaction): ... self.reason.value ...

A `TextField` reads like discord.py's `TextInput`, but its `value` is cleaned of control
characters (`clean_text`), so no modal can hand a NUL to the database.
"""

from __future__ import annotations

from typing import Any, TypeVar

import discord

from bot.clean import clean_text
from bot.ui.replies import report_error

V = TypeVar("V", bound="discord.ui.Modal", covariant=True)


class TextField(discord.ui.TextInput[V]):
    @property
    def value(self) -> str:
        return clean_text(super().value)


class Form(discord.ui.Modal):
    where: str = "form"  # names the form in error logs

    async def on_error(  # type: ignore[override]  # Modal's signature, not BaseView's
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await report_error(interaction, error, where=self.where)

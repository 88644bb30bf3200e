"""Approve / Reject buttons that survive restarts, for anything a moderator must decide.

A feature describes its decision with an `ApprovalFlow` (a `kind` such as "topic" or "prompt",
and what approving or rejecting does), then:

    items = approval_items(flow)          # once, in the cog's cog_load
    bot.add_dynamic_items(*items)
    view = approval_view(flow, item_id)   # on the message posted to the log channel

The custom_id carries the kind and the item id (`approval:<kind>:<approve|reject>:<id>`), so a
click after a restart still reaches the flow. Only moderators may click (`bot.checks.is_moderator`);
rejecting asks for an optional reason in a modal. The flow returns the text that replaces the
buttons on the log message.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Any, Protocol

import discord

from bot.checks import is_moderator
from bot.ui.forms import Form, TextField
from bot.ui.persistent import Persistent
from bot.ui.replies import send_ephemeral

if TYPE_CHECKING:
    from bot.core import PLNBot

REASON_MAX = 1000


class ApprovalFlow(Protocol):
    kind: str

    async def approve(self, interaction: discord.Interaction[PLNBot], item_id: int) -> str:
        """Carry out the approval; return the outcome line for the log message."""
        ...

    async def reject(
        self, interaction: discord.Interaction[PLNBot], item_id: int, reason: str | None
    ) -> str:
        """Carry out the rejection; return the outcome line for the log message."""
        ...


def custom_id(kind: str, action: str, item_id: int) -> str:
    return f"approval:{kind}:{action}:{item_id}"


def approval_view(flow: ApprovalFlow, item_id: int) -> discord.ui.View:
    """The two buttons for one item, to attach to the log-channel message."""
    view = discord.ui.View(timeout=None)
    for item in approval_items(flow):
        view.add_item(item.for_item(item_id))
    return view


def approval_items(flow: ApprovalFlow) -> tuple[type[_ApprovalButton], ...]:
    """The dynamic item classes to register with `bot.add_dynamic_items` for this flow."""
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,30}", flow.kind):
        raise ValueError(f"bad approval kind {flow.kind!r}")

    class Approve(
        _ApprovalButton,
        template=rf"approval:{flow.kind}:approve:(?P<id>[0-9]+)",
    ):
        FLOW = flow
        ACTION = "approve"
        where = f"approval {flow.kind}"

    class Reject(
        _ApprovalButton,
        template=rf"approval:{flow.kind}:reject:(?P<id>[0-9]+)",
    ):
        FLOW = flow
        ACTION = "reject"
        where = f"approval {flow.kind}"

    return (Approve, Reject)


class _ApprovalButton(
    Persistent,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"approval:base-class-never-registered",
):
    FLOW: ApprovalFlow
    ACTION: str

    def __init__(self, item_id: int) -> None:
        approve = self.ACTION == "approve"
        super().__init__(
            discord.ui.Button(
                label="Approve" if approve else "Reject",
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
                custom_id=custom_id(self.FLOW.kind, self.ACTION, item_id),
            )
        )
        self.item_id = item_id

    @classmethod
    def for_item(cls, item_id: int) -> _ApprovalButton:
        return cls(item_id)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> _ApprovalButton:
        return cls(int(match["id"]))

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if await is_moderator(interaction):
            return True
        await send_ephemeral(interaction, "Only moderators can decide this.")
        return False

    async def clicked(self, interaction: discord.Interaction[Any]) -> None:
        if self.ACTION == "approve":
            await interaction.response.defer(thinking=True, ephemeral=True)
            outcome = await self.FLOW.approve(interaction, self.item_id)
            await _close(interaction, outcome)
        else:
            await interaction.response.send_modal(_ReasonModal(self.FLOW, self.item_id))


class _ReasonModal(Form, title="Reject"):
    reason: TextField[_ReasonModal] = TextField(
        label="Reason (optional, shown to the member)",
        custom_id="reason",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=REASON_MAX,
    )

    def __init__(self, flow: ApprovalFlow, item_id: int) -> None:
        super().__init__(timeout=900)
        self.flow = flow
        self.item_id = item_id
        self.where = f"approval {flow.kind} (reject)"

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        outcome = await self.flow.reject(interaction, self.item_id, self.reason.value or None)
        await _close(interaction, outcome)


async def _close(interaction: discord.Interaction[Any], outcome: str) -> None:
    """Replace the buttons on the log message with the outcome, and confirm to the moderator."""
    message = interaction.message
    if message is not None:
        # The log message may be gone; the decision stands either way.
        with contextlib.suppress(discord.HTTPException):
            await message.edit(content=outcome[:2000], view=None)
    await interaction.followup.send(outcome[:2000], ephemeral=True)

"""What a member reads when a command fails: a friendly sentence, or a generic one with an id."""

from __future__ import annotations

from discord import app_commands

from bot.checks import NotModerator
from bot.errors import UserFacingError
from bot.ui.replies import user_message_for


def test_user_facing_errors_are_shown_as_written() -> None:
    assert user_message_for(UserFacingError("That tag is too long.")) == "That tag is too long."


def test_cooldowns_say_when_to_try_again() -> None:
    cooldown = app_commands.Cooldown(1, 30)
    message = user_message_for(app_commands.CommandOnCooldown(cooldown, 12.5))
    assert message is not None and message.startswith("Slow down") and ":R>" in message


def test_moderator_refusal_explains_who_may() -> None:
    message = user_message_for(NotModerator())
    assert message is not None and "moderator role" in message and "Manage Server" in message


def test_missing_bot_permissions_are_named() -> None:
    message = user_message_for(app_commands.BotMissingPermissions(["manage_roles"]))
    assert message is not None and "Manage Roles" in message


def test_bugs_get_no_details() -> None:
    assert user_message_for(ZeroDivisionError("secret internals")) is None

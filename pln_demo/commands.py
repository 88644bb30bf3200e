"""Every slash command the demo's story invokes, in one place.

Renaming a command (e.g. moving the moderators' commands under `/mod`) is a one-line change
here; the story, its checks and the interactive help all read the names from this table.
"""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    SERVER_SETTINGS = "mod settings"
    CREATE_TOPIC = "mod topic create"
    TOPIC_PICKER = "mod topic picker"
    ADD_PROMPT = "mod prompt add"
    SCHEDULE_PROMPTS = "mod prompt schedule"
    SCHEDULE_CHAT = "mod chat schedule"
    UPCOMING_CHATS = "chat upcoming"
    RECAP_SETTINGS = "mod recap settings"
    RECAP_NOW = "mod recap now"
    DIGEST_ON = "digest on"
    SHARE = "share"
    SEARCH = "search"
    SAVED = "saved"

    @property
    def typed(self) -> str:
        """As a member types it: `/mod topic create`."""
        return f"/{self.value}"

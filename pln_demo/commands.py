"""Every slash command the demo's story invokes, in one place.

Renaming a command (e.g. moving the moderators' commands under `/mod`) is a one-line change
here; the story, its checks and the interactive help all read the names from this table.
"""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    SERVER_SETTINGS = "pln settings"
    CREATE_TOPIC = "topic create"
    TOPIC_PICKER = "topic picker"
    ADD_PROMPT = "prompt add"
    SCHEDULE_PROMPTS = "prompt schedule"
    SCHEDULE_CHAT = "chat schedule"
    UPCOMING_CHATS = "chat upcoming"
    RECAP_SETTINGS = "recap settings"
    RECAP_NOW = "recap now"
    DIGEST_ON = "digest on"
    SHARE = "share"
    SEARCH = "search"
    SAVED = "saved"

    @property
    def typed(self) -> str:
        """As a member types it: `/topic create`."""
        return f"/{self.value}"

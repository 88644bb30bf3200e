"""Guilds: their rows, per-server settings, members and the audit log."""

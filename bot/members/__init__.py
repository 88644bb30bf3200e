"""Per-member preferences (privacy), Discord-free."""

"""Topic channels: members follow topics; moderators shape them (Discord-free service)."""

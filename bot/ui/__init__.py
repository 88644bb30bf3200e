"""Discord rendering shared by every cog: replies, embeds, paginated views."""

"""The weekly recap of the most-shared links and personal digests (Discord-free)."""

"""Discussion prompts: a bank per guild (optionally per topic), rotated least-recently-used."""

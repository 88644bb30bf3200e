"""Questions, thanks and the contribution ledger: Discord-free services and models."""

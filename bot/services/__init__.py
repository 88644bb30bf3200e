"""Discord-free domain services: they take a session factory and a clock, and return dataclasses."""

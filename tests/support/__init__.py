"""Test support shared by every feature's tests: the one world builder and the library seeder."""

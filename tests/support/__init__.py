"""Helpers shared by the test packages: one place for each thing several of them need."""

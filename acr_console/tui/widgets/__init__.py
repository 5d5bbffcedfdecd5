"""Widgets of the console; each carries its own DEFAULT_CSS."""

"""Headless front end: `acr-console COMMAND`, human tables by default, `--json` for scripts."""

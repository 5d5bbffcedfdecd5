"""Names vulture reports as unused that something outside this repository calls or reads by name.

Checked in CI with the project's code (see .ci/run). Everything listed here is read by a framework,
a library protocol or a later issue's data; nothing else may be added without saying which.
"""

# ruff: noqa: B018  (bare attribute references are how a vulture whitelist marks a name as used)
from types import SimpleNamespace

_ = SimpleNamespace()

# PEP 562 module __getattr__: Python calls it for a name the module does not define (lazy exports).
_.__getattr__

# kiota's RequestInformation: the request adapter reads the attribute set in azure/graph.py.
_.http_method

# pydantic-settings hooks (config/validation.py): the settings class calls them by name.
_.get_field_value
_.model_config
_.settings_customise_sources
_.dotenv_settings
_.file_secret_settings

# rich's Console hook (console_output.py): rich calls it for every print.
_.process_renderables

# Textual reads these by name: the App's default screen, a widget's cursor blink and virtual size,
# the `markup` and `parameters` arguments of overridden hooks; a screen's VERTICAL_BREAKPOINTS
# (the classes Textual sets on it by its height: screens/base.py DialogScreen).
_.get_default_screen
_.cursor_blink
_.virtual_size
_.markup
_.parameters
_.VERTICAL_BREAKPOINTS
# Textual's Suggester calls get_suggestion (screens/command_line.py); Input reads cursor_position.
_.get_suggestion
_.cursor_position

# uvicorn's Server reads these flags to stop (sandbox/server.py); sqlite3 reads row_factory.
_.should_exit
_.force_exit
_.row_factory

# Data read from ARM and kept on the models: anonymousPullEnabled and a role's assignable scopes
# are part of the access analysis of issue 13; the per-cloud login-server suffix is what sign-in
# hints print (issue 15).
_.anonymous_pull_enabled
_.assignable_scopes
_.acr_suffix

# requests calls HTTPAdapter.cert_verify by name and reads a pool's cert_reqs and a session's
# trust_env (azure/sync_transport.py overrides and sets them).
_.cert_verify
_.cert_reqs
_.trust_env

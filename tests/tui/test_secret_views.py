"""Every operation that says it makes a secret has a screen that hands it over, and no other does.

An operation added with `makes_secret=True` but no secret view would run, create a credential and
show nobody its secret: the one mistake the console cannot undo for the user.
"""

from __future__ import annotations

from acr_console.operations.registry import OPERATIONS
from acr_console.tui.screens import secret


def test_operations_that_make_a_secret_are_exactly_those_with_a_secret_view() -> None:
    making = {op.name for op in OPERATIONS if op.makes_secret}
    assert making  # create-principal, reset-credential and add-certificate at least
    # A password is shown by password_view; a generated certificate is a file, named by secret_view.
    with_password = {op.name for op in OPERATIONS if secret.password_view(op.name, {}, None, ".azurecr.io") is not None}
    assert with_password | {"add-certificate"} == making

"""The plan a person confirms reads as words, not as Python (issue 16: the revoke plan showed
`removeCredentials: True` and `deleteApplication: False`)."""

from __future__ import annotations

from acr_console.operations import Plan
from acr_console.tui.screens.confirm_plan import plan_text


def test_yes_and_no_not_true_and_false() -> None:
    plan = Plan("revoke", "Revoke ci-bot", {"principal": "ci-bot", "removeCredentials": True, "disable": False,
                                             "registry": None}, [])
    text = plan_text(plan).plain
    assert "removeCredentials: yes" in text and "disable: no" in text, text
    assert "True" not in text and "False" not in text and "None" not in text, text
    assert "registry" not in text  # nothing said for what was not given

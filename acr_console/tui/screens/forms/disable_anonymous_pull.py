"""Turn a registry's anonymous pull off (issue 13): the registry, and what it means, before the plan."""

from __future__ import annotations

from ....models import Registry
from ....operations.registry import DISABLE_ANONYMOUS_PULL
from .registry_switch import RegistrySwitchForm


class DisableAnonymousPullForm(RegistrySwitchForm):
    OPERATION = DISABLE_ANONYMOUS_PULL
    SETTING = "anonymous pull"
    EXPLANATION = ("Anyone who can reach a registry with anonymous pull pulls every repository without signing in. "
                   "Turning it off makes pulling need a credential; role assignments and tokens stay as they are.")

    def is_on(self, registry: Registry) -> bool:
        return registry.anonymous_pull_enabled

    def request_for(self, registry_id: str) -> object:
        from ....operations import DisableAnonymousPullRequest

        return DisableAnonymousPullRequest(registry=registry_id)

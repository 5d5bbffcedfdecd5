"""Action names shared by screens, the palette and read-only checks."""

from __future__ import annotations

# Every action that changes Azure. Read-only mode disables these everywhere (check_action → None
# greys them in the footer); the operations layer refuses writes too, so this is the first fence,
# not the only one.
WRITE_ACTIONS = frozenset({"new_principal", "reset_credential", "add_certificate", "assign_role", "revoke"})

"""What a revoke leaves, under its result (issue 14): each registry where the principal can still do
anything, the path, and what ends it. Read by `operations.revoke.remaining_access`, as the command
line's report is."""

from __future__ import annotations

from rich.text import Text

from ..azure.clients import AzureClients
from ..azure.errors import AzureCallError
from ..operations import Outcome
from ..operations.revoke import remaining_access


async def remaining_text(az: AzureClients, outcome: Outcome) -> Text:
    try:
        remaining = await remaining_access(az, outcome.plan)
    except AzureCallError as err:
        return Text(f"What access remains could not be read: {err}", style="bold red")
    if not remaining.registries:
        text = Text(f"No access remains on the registries in scope for {remaining.principal}.", style="bold green")
    else:
        text = Text("Still has access:", style="bold red" if remaining.failing else "bold yellow")
        for reg in remaining.registries:
            for item in reg.paths:
                path = item.path
                rights = ", ".join(sorted(r.value for r in path.rights)) or "latent rights"
                if item.anyone:
                    why = "anyone (anonymous pull)"
                elif item.group is not None:
                    why = f"{path.role} through group '{item.group}'" + (" (kept as asked)" if item.kept else "")
                else:
                    why = f"{path.role} at {path.scope_level.value if path.scope_level else '?'} scope"
                text.append(f"\n  {reg.registry.name}: {rights} — {why}")
                text.append(f"\n    {item.remove}", style="cyan")
    if remaining.dormant:
        text.append(f"\nSign-in {remaining.sign_in}: {remaining.dormant} role path(s) left grant nothing now.",
                    style="dim")
    return text

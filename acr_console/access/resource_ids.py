"""Azure Resource Manager ids and scopes, parsed in one place. Pure: no I/O, no SDK.

An ARM id is a scope followed by any number of provider blocks::

    scope := "" | /subscriptions/{sub} | /subscriptions/{sub}/resourceGroups/{group}
    block := /providers/{Namespace}/{type}/{name}[/{type}/{name}]...

A child resource continues its block with more type/name pairs (a registry's replication:
``.../providers/Microsoft.ContainerRegistry/registries/{r}/replications/{region}``); an extension
resource opens a second block after the resource it extends (a role assignment on a registry:
``{registry id}/providers/Microsoft.Authorization/roleAssignments/{guid}``); a management group is a
block at the tenant root (``/providers/Microsoft.Management/managementGroups/{id}``); the root
itself is ``/``. Resource Manager treats ids case-insensitively ("Resource Manager resource ids are
case-insensitive", learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules),
so ids compare equal whatever their case, and keywords are recognised in any case.

Written here rather than taken from azure-mgmt-core's ``tools.parse_resource_id``: importing that
module loads azure-core's pipeline (this layer is pure and sits on the start-up path), and its
pattern requires ``/subscriptions/`` first, so it cannot parse a management group or the root,
both of which role assignments use as scopes.
"""

from __future__ import annotations

from dataclasses import dataclass

MANAGEMENT_GROUP_TYPE = "Microsoft.Management/managementGroups"
REGISTRY_TYPE = "Microsoft.ContainerRegistry/registries"
ROLE_DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"
# The normalised (lower-case) prefix every management-group scope starts with.
MANAGEMENT_GROUPS_PREFIX = "/providers/microsoft.management/managementgroups/"


class InvalidResourceId(ValueError):
    """Text that is not an ARM id or scope."""


@dataclass(frozen=True, slots=True)
class ProviderBlock:
    """One ``/providers/{namespace}/{type}/{name}[/{type}/{name}]...`` block of an id."""

    namespace: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def resource_type(self) -> str:
        """``Namespace/type[/childType...]``, as ARM writes a resource type."""
        return "/".join((self.namespace, *self.types))

    def __str__(self) -> str:
        pairs = (part for pair in zip(self.types, self.names, strict=True) for part in pair)
        return "/providers/" + "/".join((self.namespace, *pairs))


@dataclass(frozen=True, slots=True, eq=False)
class ResourceId:
    """A parsed ARM id or scope. Equal and hashed as ARM compares ids: ignoring case."""

    subscription: str | None = None
    resource_group: str | None = None
    blocks: tuple[ProviderBlock, ...] = ()

    def __post_init__(self) -> None:
        if self.resource_group is not None and self.subscription is None:
            raise InvalidResourceId("a resource group needs a subscription")
        for block in self.blocks:
            if not block.types or len(block.types) != len(block.names):
                raise InvalidResourceId("a provider block needs a type and a name for each level")
            if not all((block.namespace, *block.types, *block.names)) or any(
                    "/" in part for part in (block.namespace, *block.types, *block.names)):
                raise InvalidResourceId("every part of an id is one non-empty segment")
        for part in (self.subscription, self.resource_group):
            if part is not None and (not part or "/" in part):
                raise InvalidResourceId("every part of an id is one non-empty segment")

    def __str__(self) -> str:
        """The id in ARM's canonical spelling of the keywords (the parts keep their own case)."""
        text = ""
        if self.subscription is not None:
            text = f"/subscriptions/{self.subscription}"
            if self.resource_group is not None:
                text += f"/resourceGroups/{self.resource_group}"
        text += "".join(str(b) for b in self.blocks)
        return text or "/"

    @property
    def key(self) -> str:
        """The id in lower case: what two ids are compared by."""
        return str(self).lower()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResourceId) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def is_root(self) -> bool:
        return self.subscription is None and not self.blocks

    @property
    def resource_type(self) -> str | None:
        """The type of the innermost resource (``Microsoft.ContainerRegistry/registries``); None for
        the root, a subscription or a resource group."""
        return self.blocks[-1].resource_type if self.blocks else None

    def is_type(self, resource_type: str) -> bool:
        return (self.resource_type or "").lower() == resource_type.lower()

    @property
    def name(self) -> str | None:
        """The innermost name: a resource's, else the group's, else the subscription's."""
        if self.blocks:
            return self.blocks[-1].names[-1]
        return self.resource_group or self.subscription

    @property
    def management_group(self) -> str | None:
        """The management group this id is or sits in (only ids that start at one)."""
        if self.subscription is None and self.blocks and self.blocks[0].resource_type.lower() == \
                MANAGEMENT_GROUP_TYPE.lower() and len(self.blocks[0].names) == 1:
            return self.blocks[0].names[0]
        return None

    def child(self, resource_type: str, name: str) -> ResourceId:
        """This id with a resource of ``Namespace/type`` named ``name`` under it (a new block: a
        resource in a group, an extension such as a role assignment on a registry)."""
        namespace, _, kind = resource_type.partition("/")
        if not kind or "/" in kind:
            raise InvalidResourceId(f"'{resource_type}' is not Namespace/type")
        return ResourceId(self.subscription, self.resource_group,
                          (*self.blocks, ProviderBlock(namespace, (kind,), (name,))))


ROOT = ResourceId()


def _segments(text: str) -> list[str]:
    # As normalise_scope does: surrounding blanks, a missing leading slash, a trailing slash or a
    # doubled one change nothing.
    return [part for part in text.strip().split("/") if part]


def parse_resource_id(text: str) -> ResourceId:
    """Parse an ARM id or scope; raises InvalidResourceId for anything else."""
    parts = _segments(text)
    subscription = group = None
    i = 0
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        subscription = parts[1]
        i = 2
        if len(parts) >= 4 and parts[2].lower() == "resourcegroups":
            group = parts[3]
            i = 4
    blocks: list[ProviderBlock] = []
    while i < len(parts):
        if parts[i].lower() != "providers" or len(parts) - i < 4:
            raise InvalidResourceId(f"'{text}' is not an Azure resource id")
        namespace = parts[i + 1]
        # The block runs to the next "providers" keyword in a type position.
        j = i + 2
        types: list[str] = []
        names: list[str] = []
        while j + 1 < len(parts) and not (types and parts[j].lower() == "providers"):
            types.append(parts[j])
            names.append(parts[j + 1])
            j += 2
        if j < len(parts) and parts[j].lower() != "providers":
            raise InvalidResourceId(f"'{text}' is not an Azure resource id (a type without a name)")
        blocks.append(ProviderBlock(namespace, tuple(types), tuple(names)))
        i = j
    return ResourceId(subscription, group, tuple(blocks))


def try_parse_resource_id(text: str) -> ResourceId | None:
    """:func:`parse_resource_id`, or None for text that is not an id (data from elsewhere, shown as it is)."""
    try:
        return parse_resource_id(text)
    except InvalidResourceId:
        return None


def subscription_of(text: str) -> str | None:
    """The subscription an id or scope lies in; None at the root, a management group, or for text
    that is not an id."""
    parsed = try_parse_resource_id(text)
    return parsed.subscription if parsed is not None else None


def role_definition_id(subscription_id: str, role_guid: str) -> str:
    """A role definition's id as seen from a subscription (the form role assignments carry)."""
    return str(ResourceId(subscription_id).child(ROLE_DEFINITION_TYPE, role_guid))


def role_guid(role_definition_id: str) -> str:
    """A role definition's GUID (lower case) from its id, whichever scope the id was read at: the
    same key whether a role is met through a subscription's id, a management group's or the root's.
    Never fails, as it keys data read from elsewhere: text that is not an id keys as itself."""
    parsed = try_parse_resource_id(role_definition_id)
    if parsed is None:
        return role_definition_id.strip().lower()
    return (parsed.name or "").lower()

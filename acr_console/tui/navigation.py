"""Parsing of the `:` command line; the app carries the commands out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

# word → canonical command; aliases as k9s users expect them.
COMMAND_WORDS: dict[str, str] = {
    "registries": "registries", "reg": "registries", "acr": "registry", "registry": "registry",
    "sp": "principal", "principal": "principal", "expiring": "expiring", "exp": "expiring",
    "audit": "audit", "log": "audit", "help": "help", "quit": "quit", "q": "quit",
    "profile": "profile", "ctx": "profile", "new": "create", "revoke": "revoke",
    "findings": "findings",
}

# What the argument of a command names, for completion on the command line: the names the console
# has loaded of that kind (registries listed, principals met in registry access, profiles configured).
ARGUMENT_KIND: dict[str, str] = {"registry": "registry", "principal": "principal", "revoke": "principal",
                                 "profile": "profile"}

COMMAND_HELP = (":registries · :acr NAME · :sp NAME|appId · :revoke NAME|appId · :expiring [DAYS] · :findings · "
                ":audit · :profile NAME · :new · :help · :q")


class CommandError(ValueError):
    """The command line could not be understood; the message says how to write it."""


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    argument: str = ""


def parse_command(text: str) -> Command:
    text = text.strip().lstrip(":").strip()
    if not text:
        raise CommandError("empty command")
    word, _, rest = text.partition(" ")
    name = COMMAND_WORDS.get(word.lower())
    if name is None:
        raise CommandError(f"unknown command '{word}': {COMMAND_HELP}")
    argument = rest.strip()
    if name in ARGUMENT_KIND and not argument:
        raise CommandError(f":{word} needs a name, e.g. :{word} NAME")
    if name == "expiring" and argument and not (argument.isdigit() and 0 < int(argument) <= 3650):
        raise CommandError(":expiring takes a number of days from 1 to 3650")
    return Command(name, argument)


def completions(text: str, names: Callable[[str], Iterable[str]]) -> list[str]:
    """Whole command lines that complete `text`, best first: the command word while no space is
    typed, then the argument from `names(kind)` (kind from ARGUMENT_KIND). Case is ignored, the
    name's own case is kept; a prefix of the name is what matches, as in a shell or k9s's `:`."""
    head = text.lstrip().lstrip(":")
    word, space, rest = head.partition(" ")
    if not space:
        if not word:
            return []  # nothing typed: nothing to complete (Tab on an empty line is no command)
        wanted = word.casefold()
        return [w for w in sorted(COMMAND_WORDS) if w.startswith(wanted) and w != wanted]
    kind = ARGUMENT_KIND.get(COMMAND_WORDS.get(word.casefold(), ""))
    if kind is None:
        return []
    wanted = rest.lstrip().casefold()
    found = sorted({n for n in names(kind) if n and n.casefold().startswith(wanted) and n.casefold() != wanted},
                   key=lambda n: (n.casefold(), n))
    return [f"{word} {n}" for n in found]

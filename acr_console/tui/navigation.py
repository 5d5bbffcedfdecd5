"""Parsing of the `:` command line; the app carries the commands out."""

from __future__ import annotations

from dataclasses import dataclass

# word → canonical command; aliases as k9s users expect them.
COMMAND_WORDS: dict[str, str] = {
    "registries": "registries", "reg": "registries", "acr": "registry", "registry": "registry",
    "sp": "principal", "principal": "principal", "expiring": "expiring", "exp": "expiring",
    "audit": "audit", "log": "audit", "help": "help", "quit": "quit", "q": "quit",
    "profile": "profile", "ctx": "profile", "new": "create",
}

COMMAND_HELP = (":registries · :acr NAME · :sp NAME|appId · :expiring [DAYS] · :audit · :profile NAME · "
                ":new · :help · :q")


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
    if name in ("registry", "principal", "profile") and not argument:
        raise CommandError(f":{word} needs a name, e.g. :{word} NAME")
    if name == "expiring" and argument and not (argument.isdigit() and 0 < int(argument) <= 3650):
        raise CommandError(":expiring takes a number of days from 1 to 3650")
    return Command(name, argument)

"""Bad input, kept as data: the command line and the console's forms are fed the same strings.

TEXT is what a person, a script or a paste can put in any text field. Each argument of each command
says what it must make of every TEXT entry (and of the values only it takes: numbers, dates, GUIDs,
certificate files):
- REFUSED: exit 2 with a message naming the argument (its flag, for an option), before anything is sent;
- UNKNOWN: well-formed but names nothing: exit 3 after reads only (a name must be looked up);
- ACCEPTED: a legal value (a display name may be "[bold]x" or Hebrew): the plan is made, literally.
Nothing is ever written for any of them: the writes run with --dry-run, and the sandbox's request
log is checked for a write.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT: dict[str, str] = {
    "empty": "",
    "whitespace": " \t  ",
    "padded": "  padded  ",
    "10k characters": "x" * 10_000,
    "NUL and BEL": "a\x00b\x07c",
    "line break": "two\nlines",
    "CSI escape": "\x1b[31mred",
    "OSC 52 escape": "\x1b]52;c;ZXZpbA==\x07",
    "C1 control": "x\x9by",
    "bidi override": "abc\u202etxt",
    "markup": "[bold]x[/bold]",
    "markup close": "[/x]",
    "right-to-left": "שלום-עולם",
    "emoji": "🚀🔥",
    "wrong GUID": "00000000-0000-0000-0000-00000000000g",
    "unknown GUID": "3f2b9c1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
}

# Entries no reference, name or path may hold: nothing to look up, or characters a terminal obeys.
MALFORMED = {"empty", "whitespace", "10k characters", "NUL and BEL", "line break", "CSI escape", "OSC 52 escape",
             "C1 control"}

YEARS = ["0", "-1", "11", "9999", "1e3", "99999999999999999999", "abc", "", "1.5"]
# {now+30m} and {now-1d} are filled in at run time.
END_DATES = ["2000-01-01", "9999-12-31", "10000-01-01", "2026-02-30", "yesterday", "", "0001-01-01T00:00:00Z",
             "{now+30m}", "{now-1d}", "2027-13-01"]
WITHIN = ["-1", "3651", "abc", "", "99999999999999999999"]
KEY_IDS = {label: TEXT[label] for label in TEXT if label != "unknown GUID"}
# Certificate files: tests/support/certificates.py (REFUSED with exit 2, ACCEPTED in --dry-run).


@dataclass(frozen=True)
class Argument:
    """One argument of one command, and what it must make of each TEXT entry."""

    command: str
    name: str
    argv: tuple[str, ...]  # with "{}" where the value goes
    kind: str  # "reference" | "display-name" | "credential-name" | "role" | "key-id" | "path" | "new-path"
    reads_first: bool = False  # needs a lookup before it can tell (UNKNOWN is exit 3 after reads)

    @property
    def says(self) -> str:
        """The words a refusal must contain to name this argument: an option's flag, which the
        command line puts before the message about that field; a positional one's name in words."""
        if self.name in ("SP", "REGISTRY", "KEYID"):
            return {"SP": "principal", "REGISTRY": "registry", "KEYID": "key id"}[self.name]
        return f"{self.name}:"

    def expected(self, label: str) -> str:
        value = TEXT[label]
        if self.kind == "role":
            return "REFUSED"
        if self.kind == "key-id":
            return "UNKNOWN" if label == "unknown GUID" else "REFUSED"
        if label in MALFORMED:
            return "REFUSED"
        if self.kind == "reference":
            return "UNKNOWN"
        if self.kind in ("display-name", "credential-name"):
            return "REFUSED" if label in ("padded", "bidi override") else "ACCEPTED"
        if self.kind == "path":  # an existing certificate file
            return "REFUSED"
        if self.kind == "new-path":  # the folder of "[bold]x[/bold]" does not exist
            return "REFUSED" if value.strip() != value or label == "bidi override" or "/" in value else "ACCEPTED"
        raise AssertionError(self.kind)


SP = "{principal}"  # replaced by an existing principal's appId where another argument is under test
REG = "contosoprod"
DRY = ("--dry-run",)

ARGUMENTS: list[Argument] = [
    Argument("create-principal", "--name", ("create-principal", "--name", "{}", "--registry", REG, "--role", "AcrPush",
                                            "--show-secret", *DRY), "display-name"),
    Argument("create-principal", "--registry", ("create-principal", "--name", "corpus", "--registry", "{}", "--role",
                                                "AcrPush", "--show-secret", *DRY), "reference", reads_first=True),
    Argument("create-principal", "--role", ("create-principal", "--name", "corpus", "--registry", REG, "--role", "{}",
                                            "--show-secret", *DRY), "role"),
    Argument("create-principal", "--certificate", ("create-principal", "--name", "corpus", "--registry", REG,
                                                   "--role", "AcrPush", "--certificate", "{}", *DRY), "path"),
    Argument("create-principal", "--out", ("create-principal", "--name", "corpus", "--registry", REG, "--role",
                                           "AcrPush", "--out", "{out}", *DRY), "new-path"),
    Argument("reset-credential", "SP", ("reset-credential", "{}", "--show-secret", *DRY), "reference",
             reads_first=True),
    Argument("reset-credential", "--display-name", ("reset-credential", SP, "--display-name", "{}", "--show-secret",
                                                    *DRY), "credential-name"),
    Argument("reset-credential", "--out", ("reset-credential", SP, "--out", "{out}", *DRY), "new-path"),
    Argument("add-certificate", "SP", ("add-certificate", "{}", "--generate", "--out", "{fresh}", *DRY), "reference",
             reads_first=True),
    Argument("add-certificate", "--file", ("add-certificate", SP, "--file", "{}", *DRY), "path"),
    Argument("add-certificate", "--out", ("add-certificate", SP, "--generate", "--out", "{out}", *DRY), "new-path"),
    Argument("add-certificate", "--display-name", ("add-certificate", SP, "--generate", "--out", "{fresh}",
                                                   "--display-name", "{}", *DRY), "credential-name"),
    Argument("add-certificate", "--proof", ("add-certificate", SP, "--file", "{good}", "--proof", "{}", *DRY), "path"),
    Argument("remove-credential", "SP", ("remove-credential", "{}", "3f2b9c1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f", *DRY),
             "reference", reads_first=True),
    Argument("remove-credential", "KEYID", ("remove-credential", SP, "{}", *DRY), "key-id", reads_first=True),
    Argument("assign", "SP", ("assign", "{}", "--registry", REG, "--role", "AcrPull", *DRY), "reference",
             reads_first=True),
    Argument("assign", "--registry", ("assign", SP, "--registry", "{}", "--role", "AcrPull", *DRY), "reference",
             reads_first=True),
    Argument("assign", "--role", ("assign", SP, "--registry", REG, "--role", "{}", *DRY), "role"),
    Argument("unassign", "--role", ("unassign", SP, "--registry", REG, "--role", "{}", *DRY), "role"),
    Argument("unassign", "SP", ("unassign", "{}", "--registry", REG, "--role", "AcrPull", *DRY), "reference",
             reads_first=True),
    Argument("revoke", "SP", ("revoke", "{}", "--registry", REG, *DRY), "reference", reads_first=True),
    Argument("revoke", "--registry", ("revoke", SP, "--registry", "{}", *DRY), "reference", reads_first=True),
    Argument("access", "REGISTRY", ("access", "{}"), "reference", reads_first=True),
    Argument("principal", "SP", ("principal", "{}"), "reference", reads_first=True),
    Argument("test-login", "REGISTRY", ("test-login", "{}", "--username", "{principal}", "--password-stdin"),
             "reference", reads_first=True),
]

# Values only some arguments take, each refused with exit 2.
NUMBERS: list[tuple[str, tuple[str, ...]]] = [
    ("create-principal --years", ("create-principal", "--name", "corpus", "--registry", REG, "--role", "AcrPush",
                                  "--show-secret", "--years", "{}", *DRY)),
    ("reset-credential --years", ("reset-credential", SP, "--show-secret", "--years", "{}", *DRY)),
    ("add-certificate --years", ("add-certificate", SP, "--generate", "--out", "{fresh}", "--years", "{}", *DRY)),
]
DATES: list[tuple[str, tuple[str, ...]]] = [
    ("create-principal --end-date", ("create-principal", "--name", "corpus", "--registry", REG, "--role", "AcrPush",
                                     "--show-secret", "--end-date", "{}", *DRY)),
    ("reset-credential --end-date", ("reset-credential", SP, "--show-secret", "--end-date", "{}", *DRY)),
]
WITHIN_ARGV = ("expiring", "--within", "{}")
SCOPES = ["", "pull everything", "repository:x", "repository::pull", "\x1b[31m", "x" * 10_000]

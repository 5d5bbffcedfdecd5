"""Input checks that run before anything is sent: each failure names what is wrong and what to do.

Pure functions; the CLI and the TUI's forms call the same ones, so both refuse the same inputs
with the same words. Each refusal is an InputError naming the request field it is about; the
words never name a front end's way of giving it (a CLI flag, a form label): the CLI prefixes the
flag of that field, a form shows the words under that field.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from ..models import RoleAssignmentMode
from ..paths import expand_user

if TYPE_CHECKING:
    from ..certificates import CertificateInfo
from ..roles import ABAC_DATA_ROLES, LEGACY_DATA_ROLES, builtin_by_name

# Graph: "The display name for the application. Maximum length is 256 characters."
MAX_DISPLAY_NAME = 256
MAX_CREDENTIAL_NAME = 120
DEFAULT_YEARS = 1  # the Azure CLI's default secret lifetime (docs/reference/acr-access.md §4.1)
MAX_YEARS = 10
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Bidirectional overrides and isolates let a name display as something it is not.
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


# Linux's limits: a longer name is an OSError ("File name too long") deep inside a check.
MAX_PATH = 4096
MAX_FILE_NAME = 255


def _shown(text: str, limit: int = 40) -> str:
    # Quote input back safely: escapes make control characters visible instead of acting on a terminal.
    short = text if len(text) <= limit else text[:limit] + "…"
    return repr(short)


def check_display_name(name: str, what: str = "name", *, field: str = "name") -> str:
    if not isinstance(name, str) or not name.strip():
        hint = "give the application a name, e.g. ci-pusher-prod" if what == "name" else "give one or leave it out"
        raise InputError(f"the {what} is empty; {hint}", field=field)
    if name != name.strip():
        raise InputError(f"the {what} {_shown(name)} starts or ends with spaces; remove them", field=field)
    bad = [c for c in name if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") or c in _BIDI_CONTROLS]
    if bad:
        codes = ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(bad))
        raise InputError(f"the {what} {_shown(name)} contains control or invisible characters ({codes}); "
                         "use printable characters only", field=field)
    if len(name) > MAX_DISPLAY_NAME:
        raise InputError(f"the {what} is {len(name)} characters long; Microsoft Entra allows at most "
                         f"{MAX_DISPLAY_NAME}", field=field)
    return name


def check_credential_name(name: str | None, *, field: str = "display_name") -> str | None:
    if name is None:
        return None
    check_display_name(name, "credential display name", field=field)
    if len(name) > MAX_CREDENTIAL_NAME:
        raise InputError(f"the credential display name is {len(name)} characters long; use at most "
                         f"{MAX_CREDENTIAL_NAME}", field=field)
    return name


def check_reference(ref: str, field: str, what: str | None = None) -> str:
    """A principal or registry named by the user: non-empty, printable. `what` defaults to the field."""
    what = what or field.replace("_", " ")
    if not isinstance(ref, str) or not ref.strip():
        raise InputError(f"no {what} given", field=field)
    if any(unicodedata.category(c) == "Cc" for c in ref):
        raise InputError(f"the {what} {_shown(ref)} contains control characters", field=field)
    if len(ref) > 1024:
        raise InputError(f"the {what} is {len(ref)} characters long; that is not a {what}", field=field)
    return ref.strip()


def check_path(value: str | None, field: str) -> Path | None:
    """A file named by the user, checked as text: something to open, without characters that would
    end up in a terminal (the plan prints the path) or in a misleading name."""
    if value is None:
        return None
    if not value.strip():
        raise InputError("no file given; name one, e.g. ./ci-payments.pem", field=field)
    if value != value.strip():
        raise InputError(f"the path {_shown(value)} starts or ends with spaces; remove them", field=field)
    # Cs: a lone surrogate (from a terminal that passed undecodable bytes through) cannot be
    # encoded as a file name at all; refuse it here instead of failing inside the file system call.
    bad = [c for c in value if unicodedata.category(c) in ("Cc", "Cs") or c in _BIDI_CONTROLS]
    if bad:
        codes = ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(bad))
        raise InputError(f"the path {_shown(value)} contains control or invisible characters ({codes}); "
                         "name the file with printable characters", field=field)
    if len(value) > MAX_PATH or any(len(part.encode()) > MAX_FILE_NAME for part in Path(value).parts):
        raise InputError(f"the path is {len(value)} characters long, more than a file system allows", field=field)
    return expand_user(value)


@contextlib.contextmanager
def _naming(field: str) -> Iterator[None]:
    """A certificate file's problem, as an input error of the field that named the file."""
    # Imported here: cryptography costs the read-only commands, which only check names, 0.06 s.
    from ..certificates import CertificateError

    try:
        yield
    except CertificateError as err:
        raise InputError(str(err), field=field) from None


def new_file(value: str | None, field: str) -> Path | None:
    """Where a new secret goes (see certificates.check_new_file); a refusal names the field."""
    path = check_path(value, field)
    if path is None:
        return None
    from ..certificates import check_new_file

    with _naming(field):
        checked = check_new_file(path)
    return checked


def certificate_file(value: str, field: str, now: datetime) -> CertificateInfo:
    path = check_path(value, field)
    assert path is not None
    from ..certificates import load_certificate_file

    with _naming(field):
        info = load_certificate_file(path, now=now)
    return info


def key_and_certificate_file(value: str, field: str, now: datetime) -> Path:
    path = check_path(value, field)
    assert path is not None
    from ..certificates import load_private_key_and_certificate

    with _naming(field):
        load_private_key_and_certificate(path, now=now)
    return path


def check_key_id(key_id: str, *, field: str = "key_id") -> str:
    key_id = key_id.strip()
    if not _GUID.match(key_id):
        raise InputError(f"{_shown(key_id)} is not a key id; key ids are GUIDs such as "
                         "3f2b9c1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f (see 'acr-console principal SP')", field=field)
    return key_id.lower()


def all_data_roles() -> tuple[str, ...]:
    return (*LEGACY_DATA_ROLES, *ABAC_DATA_ROLES)


def check_role_name(role: str, *, field: str = "role") -> str:
    """A data role the console assigns, by name (any case); returns the canonical name."""
    wanted = (role or "").strip().lower()
    for name in all_data_roles():
        if name.lower() == wanted:
            return name
    raise InputError(f"unknown role {_shown(role or '')}; choose one of: {', '.join(all_data_roles())}", field=field)


def check_any_role(role: str, *, field: str = "role") -> str:
    """Any built-in role by name, for removal: taking away a role the console would not hand out is fine."""
    builtin = builtin_by_name((role or "").strip())
    if builtin is None:
        raise InputError(f"unknown role {_shown(role or '')}; name a built-in role such as "
                         f"{', '.join(all_data_roles())}", field=field)
    return builtin.name


def check_role_for_mode(role: str, mode: RoleAssignmentMode, registry_name: str, *, field: str = "role") -> str:
    if mode is RoleAssignmentMode.UNKNOWN:
        return check_role_name(role, field=field)  # the mode is not stated: every data role may be the right one
    choices = ABAC_DATA_ROLES if mode is RoleAssignmentMode.ABAC else LEGACY_DATA_ROLES
    if role not in choices:
        why = ("ABAC-mode registries do not honour AcrPull/AcrPush/AcrDelete"
               if mode is RoleAssignmentMode.ABAC else
               "the Repository roles are documented for ABAC-mode registries only")
        raise InputError(f"{role} does not grant access on {registry_name} ({mode.short.upper()} mode): {why}. "
                         f"Choose one of: {', '.join(choices)}", field=field)
    return role


def role_guid(role: str) -> str:
    builtin = builtin_by_name(role)
    if builtin is None:  # the data-role lists and the role table ship together
        raise InputError(f"no built-in role named {role}", field="role")
    return builtin.guid


def parse_end_date(text: str, now: datetime, *, field: str = "end_date") -> datetime:
    text = (text or "").strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            value = datetime.combine(date.fromisoformat(text), time(23, 59, 59), UTC)
        else:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{_shown(text)} is not a date; use YYYY-MM-DD or an ISO 8601 time "
                         "such as 2026-12-31T18:00:00Z", field=field) from None
    if value.tzinfo is None:  # as the Azure CLI does: a time without zone is UTC
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is in the year 10000 in UTC
        raise InputError(f"{_shown(text)} is beyond the year 9999", field=field) from None


def credential_end(years: int | None, end_date: str | None, now: datetime | None = None,
                   *, default_years: int = DEFAULT_YEARS) -> datetime:
    """When a new credential expires: a number of years or an end date (not both), one year by default.
    Refusals name the request fields `years` and `end_date`."""
    now = now or datetime.now(UTC)
    if years is not None and end_date is not None:
        raise InputError("give a lifetime in years or an end date, not both", field="end_date")
    if end_date is not None:
        end = parse_end_date(end_date, now)
        if end <= now:
            raise InputError(f"the end date {end.date().isoformat()} is in the past; a credential must expire "
                             "in the future", field="end_date")
        if end - now < timedelta(hours=1):
            raise InputError("the end date is less than an hour away; the credential would expire before use",
                             field="end_date")
    else:
        n = default_years if years is None else years
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(f"{n} is not a whole number of years from 1 to {MAX_YEARS}", field="years")
        if n > MAX_YEARS:
            # Before the date arithmetic: a year past 9999 is a ValueError, not a message.
            raise InputError(f"{n} is more than the console allows: at most {MAX_YEARS} years (long-lived "
                             "secrets are what leaks). Rotate instead", field="years")
        end = now.replace(year=now.year + n) if not (now.month == 2 and now.day == 29) else (
            now + timedelta(days=365 * n))
    if end > now + timedelta(days=366 * MAX_YEARS):
        raise InputError(f"the credential would live until {end.date().isoformat()}; the console allows "
                         f"at most {MAX_YEARS} years (long-lived secrets are what leaks). Rotate instead",
                         field="end_date" if end_date is not None else "years")
    return end

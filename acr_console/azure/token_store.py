"""Where an interactive sign-in (device code, browser) is kept between commands, and how it is forgotten.

Two things are kept, one pair per (authority, tenant, client id), so two tenants, clouds or sandboxes
never share one:
- **the token cache**: MSAL's, persisted by azure-identity from `TokenCachePersistenceOptions(name=…)`
  (https://learn.microsoft.com/python/api/azure-identity/azure.identity.tokencachepersistenceoptions).
  azure-identity chooses the store, not this module (azure/identity/_persistent_cache.py,
  `_get_persistence`, azure-identity 1.27): on Windows a file under `%LOCALAPPDATA%\\.IdentityService`
  encrypted with DPAPI; on macOS the Keychain (with a marker file `~/.IdentityService/NAME`); on Linux
  the Secret Service through libsecret, tried at once with msal-extensions' `trial_run` (it needs
  PyGObject and a D-Bus session, so a headless SSH host has none), else, when
  `allow_unencrypted_storage=True`, a plain file `~/.IdentityService/NAME` that msal-extensions
  creates mode 0600 (msal_extensions/persistence.py, `_open`). The Azure CLI keeps its MSAL cache as a
  plain file on Linux too (`~/.azure/msal_token_cache.json`). The name gets `.cae` or `.nocae`
  appended (azure/identity/_constants.py `CACHE_CAE_SUFFIX`): the console asks with CAE, so `.cae`.
- **the AuthenticationRecord**: who signed in (authority, client id, home account id, tenant,
  username; no token, no secret: azure/identity/_auth_record.py), saved as JSON, mode 0600, in the
  user's state folder. Without it the credential cannot pick the account from the cache and asks
  again (azure/identity/_internal/interactive.py, `_acquire_token_silent`, looks accounts up by the
  record's username and home account id only).

To tell the user which store holds the tokens, `describe()` asks azure-identity's own
`_get_persistence` (a private function: the one place the decision is made, so the description
cannot drift from what the credential does; tests/cli/test_sign_in_cache.py runs it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .connection import AuthMethod, Connection

if TYPE_CHECKING:
    from azure.identity import AuthenticationRecord, TokenCachePersistenceOptions

# The application DeviceCodeCredential and InteractiveBrowserCredential sign in as when given no
# client id: the Azure CLI's (azure/identity/_constants.py, DEVELOPER_SIGN_ON_CLIENT_ID).
DEVELOPER_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
# What azure-identity appends to the cache's name (azure/identity/_constants.py).
CACHE_SUFFIXES = (".cae", ".nocae")
# The account name azure-identity gives msal-extensions (azure/identity/_persistent_cache.py).
_ACCOUNT_NAME = "MSALCache"
INTERACTIVE = (AuthMethod.DEVICE_CODE, AuthMethod.BROWSER)


def state_dir() -> Path:
    """The user's state folder for acr-console (`~/.local/state/acr-console` on Linux)."""
    from platformdirs import user_state_path

    return user_state_path("acr-console", appauthor=False)


@dataclass(frozen=True, slots=True)
class StoreDescription:
    """Where the token cache lives and whether it is encrypted, in words for the user."""

    location: str
    encrypted: bool
    text: str  # one line: "token cache: …"


@dataclass(frozen=True, slots=True)
class TokenStore:
    """The persisted sign-in of one (authority, tenant, client id)."""

    name: str  # TokenCachePersistenceOptions' name
    record_path: Path
    authority: str
    tenant: str
    client_id: str

    def persistence_options(self) -> TokenCachePersistenceOptions:
        from azure.identity import TokenCachePersistenceOptions

        # allow_unencrypted_storage only matters where no secure store works (Linux without a Secret
        # Service): there the cache is a 0600 file, as the Azure CLI's is; everywhere else it is encrypted.
        return TokenCachePersistenceOptions(name=self.name, allow_unencrypted_storage=True)

    def load_record(self) -> AuthenticationRecord | None:
        """The saved record, or None (none saved, or unreadable: then the person signs in again and
        a new one replaces it)."""
        from azure.identity import AuthenticationRecord

        try:
            text = self.record_path.read_text(encoding="utf-8")
            return AuthenticationRecord.deserialize(text)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save_record(self, record: AuthenticationRecord) -> None:
        """Write the record, mode 0600 from its creation (never readable by others, not even briefly)."""
        folder = self.record_path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = folder / f".{self.record_path.name}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(record.serialize())
            os.replace(tmp, self.record_path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def _persistence(self, suffix: str) -> Any:
        from azure.identity._persistent_cache import _get_persistence

        return _get_persistence(allow_unencrypted=True, account_name=_ACCOUNT_NAME, cache_name=self.name + suffix)

    def describe(self) -> StoreDescription:
        """Which store azure-identity uses for this cache here (see the module's docstring)."""
        persistence = self._persistence(CACHE_SUFFIXES[0])
        location = str(persistence.get_location())
        kind = type(persistence).__name__
        if kind == "LibsecretPersistence":
            return StoreDescription(location, True, "token cache: the Secret Service keyring (libsecret), encrypted")
        if kind == "KeychainPersistence":
            return StoreDescription(location, True, "token cache: the macOS Keychain, encrypted")
        if kind == "FilePersistenceWithDataProtection":
            return StoreDescription(location, True, f"token cache: {location}, encrypted for this Windows user (DPAPI)")
        return StoreDescription(location, False, f"token cache: {location}, a plain file readable only by you "
                                "(mode 0600; no secure store such as a Secret Service keyring on this host)")

    def discard_unreadable(self) -> list[str]:
        """Remove a plain-file cache that is not MSAL's JSON (truncated by a full disk, edited by
        hand): MSAL would fail every sign-in on it ("Expecting value…") until it is gone, and it is
        only a cache, so the person signs in again. The files removed."""
        removed = []
        for suffix in CACHE_SUFFIXES:
            persistence = self._persistence(suffix)
            if type(persistence).__name__ != "FilePersistence":
                continue
            location = Path(persistence.get_location())
            try:
                json.loads(location.read_text(encoding="utf-8") or "{}")
            except FileNotFoundError:
                continue
            except (OSError, ValueError):
                location.unlink(missing_ok=True)
                removed.append(str(location))
        return removed

    def forget(self) -> list[str]:
        """Remove the record and empty the token cache; what was removed, in words (empty: nothing was there)."""
        removed: list[str] = []
        with contextlib.suppress(FileNotFoundError):
            self.record_path.unlink()
            removed.append(f"sign-in record {self.record_path}")
        for suffix in CACHE_SUFFIXES:
            persistence = self._persistence(suffix)
            location = Path(persistence.get_location())
            if type(persistence).__name__ in ("FilePersistence", "FilePersistenceWithDataProtection"):
                with contextlib.suppress(FileNotFoundError):
                    location.unlink()
                    removed.append(f"token cache {location}")
            elif location.exists():
                # A keyring entry: emptied (msal-extensions has no delete), and its marker file removed.
                persistence.save(json.dumps({}))
                location.unlink()
                removed.append(f"token cache {self.name + suffix} in the keyring")
            with contextlib.suppress(FileNotFoundError):
                Path(f"{location}.lockfile").unlink()
        return removed


def token_store(conn: Connection) -> TokenStore | None:
    """The persisted sign-in for `conn`, or None when it keeps tokens in memory only (`--no-token-cache`,
    `token_cache = "memory"`) or signs in a way that caches nothing on disk here."""
    if conn.auth.method not in INTERACTIVE or not conn.auth.persist_tokens:
        return None
    authority = conn.cloud.authority_host.rstrip("/").lower()
    tenant = (conn.tenant_id or "organizations").lower()
    client_id = (conn.auth.client_id or DEVELOPER_CLIENT_ID).lower()
    key = hashlib.sha256(f"{authority}|{tenant}|{client_id}".encode()).hexdigest()[:16]
    name = f"acr-console.{key}"
    return TokenStore(name=name, record_path=state_dir() / "sign-in" / f"{name}.json",
                      authority=authority, tenant=tenant, client_id=client_id)

"""The unmodified Azure CLI, run as a user would, against a sandbox and nothing else.

Each `AzureCli` is one machine: its own `AZURE_CONFIG_DIR` (so its own sign-in and MSAL token cache)
and its own HOME (where `--create-cert` writes its PEM). Nothing reaches the internet:

- telemetry and the survey are off (`core.collect_telemetry`, `core.survey_message`), and errors only;
- MSAL's instance discovery is off (`core.instance_discovery`: otherwise it asks
  login.microsoftonline.com about the sandbox's authority; azure-cli `core/_profile.py`);
- `versionCheck.json` is written before the first command, so az does not HEAD
  azcliprod.blob.core.windows.net for the latest version (azure-cli `core/util.py`
  `get_cached_latest_versions`: a fresh cache with versions skips the call);
- the sandbox's endpoints come from a custom cloud registered with `--skip-endpoint-discovery`;
- REQUESTS_CA_BUNDLE is the sandbox's CA only, so no public host could even be trusted;
- HTTPS_PROXY is tests/azcli/proxy.py: registry login servers go to the sandbox, anything else to the
  run's tripwire, which refuses it and fails the run.

The environment is built from nothing but PATH and the locale, so variables a developer exports
(AZURE_*, REQUESTS_CA_BUNDLE, proxies) never reach az.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

AZ_VERSION = "2.91.0"
CLOUD = "AcrConsoleSandbox"
REPO = Path(__file__).resolve().parents[2]
INSTALL = "tests/azcli/install.sh"


def az_venv() -> Path:
    configured = os.environ.get("ACR_CONSOLE_AZ_VENV")
    venv = Path(configured) if configured else Path(".venv-azcli")
    return venv if venv.is_absolute() else REPO / venv


def find_az() -> Path | None:
    """The az of the pinned version in its own venv, or None."""
    venv = az_venv()
    exe = venv / "bin" / "az"
    if exe.exists() and any(venv.glob(f"lib/python3*/site-packages/azure_cli-{AZ_VERSION}.dist-info")):
        return exe
    return None


class Hidden(str):
    """A secret the test holds: a str to every API, `'***'` to pytest's assertion messages (they
    show the arguments of a failing call)."""

    def __repr__(self) -> str:
        return "'***'"


@dataclass(frozen=True)
class AzResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class AzFailed(AssertionError):
    pass


class AzureCli:
    def __init__(self, exe: Path, folder: Path, connection: dict[str, Any], proxy_url: str,
                 secrets: list[str]) -> None:
        self.exe = exe
        self.config_dir = folder / "azure"
        self.home = folder / "home"
        self.connection = connection
        self.proxy_url = proxy_url
        self.secrets = secrets  # shared list: values never shown in a failure message
        self.config_dir.mkdir(parents=True, mode=0o700)
        self.home.mkdir(mode=0o700)
        # The version-check cache az reads before anything else (azure-cli core/util.py).
        (self.config_dir / "versionCheck.json").write_text(json.dumps({
            "versions": {"azure-cli": {"local": AZ_VERSION}, "core": {"local": AZ_VERSION},
                         "telemetry": {"local": "1.1.0"}},
            "update_time": datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f"),
        }))

    def env(self) -> dict[str, str]:
        env = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL", "TMPDIR") if key in os.environ}
        env.update({
            "HOME": str(self.home),
            "AZURE_CONFIG_DIR": str(self.config_dir),
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
            "AZURE_CORE_INSTANCE_DISCOVERY": "false",
            "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
            "AZURE_CORE_NO_COLOR": "true",
            "REQUESTS_CA_BUNDLE": self.connection["ca_bundle"],
            "HTTPS_PROXY": self.proxy_url, "HTTP_PROXY": self.proxy_url,
            "https_proxy": self.proxy_url, "http_proxy": self.proxy_url,
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        })
        return env

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def run(self, *args: str, ok: bool = True) -> AzResult:
        """`az ARGS`; with `ok`, a non-zero exit fails the test with az's own error (secrets hidden)."""
        done = subprocess.run([str(self.exe), *args], env=self.env(), cwd=self.home, capture_output=True,
                              text=True, timeout=300, check=False)
        result = AzResult(tuple(args), done.returncode, done.stdout, done.stderr)
        if ok and done.returncode != 0:
            raise AzFailed(f"az {self._redact(' '.join(args))} exited {done.returncode}:\n"
                           f"{self._redact(done.stderr)}")
        return result

    def json(self, *args: str) -> Any:
        return self.run(*args, "--output", "json").json()

    def tsv(self, *args: str) -> str:
        return self.run(*args, "--output", "tsv").stdout.strip()

    def use_sandbox_cloud(self) -> None:
        """`az cloud register` with the sandbox's endpoints, then make it the current cloud.

        ARM's token audience is the sandbox's ARM URL; Graph's base URL is its resource id
        (azure-cli `_msgrpah/_graph_client.py` builds requests on `microsoft_graph_resource_id`);
        a registry's login server comes from ARM, and the suffix is for `az acr login`'s fallback."""
        c = self.connection
        self.run("cloud", "register", "--name", CLOUD, "--skip-endpoint-discovery",
                 "--endpoint-resource-manager", c["resource_manager"],
                 "--endpoint-active-directory", c["authority_host"],
                 "--endpoint-active-directory-resource-id", c["resource_manager"],
                 "--endpoint-microsoft-graph-resource-id", c["microsoft_graph"].rstrip("/") + "/",
                 "--suffix-acr-login-server-endpoint", ".azurecr.io")
        self.run("cloud", "set", "--name", CLOUD)


class Machines:
    """Azure CLI installations on separate machines, sharing one list of secrets to hide."""

    def __init__(self, exe: Path, root: Path, connection: dict[str, Any], proxy_url: str) -> None:
        self.exe = exe
        self.root = root
        self.connection = connection
        self.proxy_url = proxy_url
        self.secrets: list[str] = [connection["admin"]["client_secret"]]

    def new(self, name: str) -> AzureCli:
        """A machine of its own, with the sandbox cloud registered and current."""
        cli = AzureCli(self.exe, self.root / name, self.connection, self.proxy_url, self.secrets)
        cli.use_sandbox_cloud()
        return cli

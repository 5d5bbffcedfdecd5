"""`--auth device-code` asks a person for one code per command, for ARM and Graph alike (issue 15).

azure-identity keeps tokens asked for with CAE and without it in two MSAL caches, and ARM's pipeline
asks without CAE while kiota (Graph) asks with it: before the fix, `access` printed two codes. The
sandbox serves Entra's device authorization grant (learn.microsoft.com/entra/identity-platform/
v2-oauth2-device-code) and its user approves a code with `acr-console sandbox approve`, so the real
DeviceCodeCredential signs in here as it would against Entra.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from acr_console.sandbox.context import Settings
from tests.support.sandbox import running_sandbox

CODE = re.compile(r"enter the code (\S+)\.")


@pytest.fixture(scope="module")
def device_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # Polls every second, not Entra's five: the test waits on the person, not on the interval.
    with running_sandbox(tmp_path_factory.mktemp("device-code"), settings=Settings(device_code_interval_s=1)) as s:
        yield s


def test_access_asks_for_one_code_for_arm_and_graph(device_sandbox: Any, tmp_path: Path) -> None:
    # A HOME of its own: the sign-in is kept there (tests/cli/test_sign_in_cache.py), not in the user's.
    env = {**os.environ, "ACR_CONSOLE_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "HOME": str(tmp_path),
           "XDG_STATE_HOME": str(tmp_path / "state")}
    proc = subprocess.Popen([sys.executable, "-m", "acr_console", "--sandbox-data", str(device_sandbox.data_dir),
                             "--auth", "device-code", "access", "contosoprod", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None and proc.stdout is not None
    codes: list[str] = []
    stderr: list[str] = []
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()))  # type: ignore[union-attr]
    reader.start()
    for line in proc.stderr:
        stderr.append(line)
        found = CODE.search(line)
        if found:
            codes.append(found.group(1))
            approved = subprocess.run([sys.executable, "-m", "acr_console", "sandbox", "approve", "--data",
                                       str(device_sandbox.data_dir), found.group(1)],
                                      capture_output=True, text=True, timeout=60, env=env)
            assert approved.returncode == 0, approved.stderr
    proc.wait(timeout=120)
    reader.join(timeout=30)
    assert proc.returncode == 0, "".join(stderr)
    assert len(codes) == 1, f"asked for {len(codes)} codes: {''.join(stderr)}"
    doc = json.loads(out[0])
    assert doc["registry"]["name"] == "contosoprod" and doc["entries"], "".join(stderr)

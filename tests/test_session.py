"""The session below both front ends: options and profiles → Connection, the other ways in after a
failed sign-in, and the sandbox processes it starts (and only those) stopped when it closes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from acr_console.azure.connection import AuthMethod
from acr_console.config import Profile, Settings
from acr_console.errors import EXIT_USAGE, UsageError
from acr_console.main import main
from acr_console.sandbox.launcher import read_connection
from acr_console.sandbox.server import SandboxServer
from acr_console.session import SANDBOX, Session, SessionOptions, Target, resolve

SUB = "11111111-1111-1111-1111-111111111111"


def test_sandbox_data_implies_the_sandbox_and_expands_the_home_folder() -> None:
    target = resolve(SessionOptions(sandbox_data="~/sbx"), Settings())
    assert target.profile.sandbox is True
    assert target.sandbox_data == Path.home() / "sbx"


def test_an_empty_profile_name_is_refused_not_taken_for_the_default() -> None:
    settings = Settings(default_profile="prod", profiles={"prod": Profile(tenant="contoso")})
    with pytest.raises(UsageError, match="--profile: no profile name given"):
        resolve(SessionOptions(profile=" "), settings)


def test_azure_connection_from_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_TENANT_ID", "contoso")  # --auth env honours only the tenant the environment names
    options = SessionOptions(cloud="AzureChinaCloud", tenant="contoso", subscriptions=(SUB,), auth="env",
                             read_only=True)
    with Session(options, Settings()) as session:
        conn = session.connect()
    assert (conn.cloud.name, conn.tenant_id, conn.auth.method) == ("AzureChinaCloud", "contoso", AuthMethod.ENV)
    assert (conn.subscriptions, conn.read_only, conn.sandbox) == ((SUB,), True, False)


def test_device_code_goes_where_the_front_end_says_even_after_the_connection_was_made(
        capsys: pytest.CaptureFixture[str]) -> None:
    session = Session(SessionOptions(auth="device-code"), Settings())
    conn = session.connect()
    prompt = conn.auth.device_code_prompt
    assert prompt is not None
    prompt("https://microsoft.com/devicelogin", "ABC123", None)
    assert "enter the code ABC123" in capsys.readouterr().err  # the command line's default
    shown: list[str] = []
    session.device_code_prompt = lambda uri, code, expires: shown.append(code)  # the console, once it runs
    prompt("https://microsoft.com/devicelogin", "DEF456", None)
    assert shown == ["DEF456"] and capsys.readouterr().err == ""


def test_another_way_in_keeps_the_place_and_the_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_TENANT_ID", "contoso")
    session = Session(SessionOptions(tenant="contoso", subscriptions=(SUB,), auth="env", read_only=True), Settings())
    failed = session.connect()
    retried = session.sign_in_instead(failed, "cli")
    assert retried.auth.method is AuthMethod.CLI
    assert (retried.tenant_id, retried.subscriptions, retried.read_only) == ("contoso", (SUB,), True)


ENV_MI, PROFILE_MI, OPTION_MI = (f"{n}1111111-2222-4333-8444-555555555555" for n in "abc")


def test_a_managed_identity_is_the_one_named_by_option_profile_or_azure_client_id(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_CLIENT_ID", raising=False)
    mi = SessionOptions(auth="managed-identity")
    assert Session(mi, Settings()).connect().auth.client_id is None  # the system-assigned identity
    monkeypatch.setenv("AZURE_CLIENT_ID", ENV_MI)
    assert Session(mi, Settings()).connect().auth.client_id == ENV_MI
    profiles = Settings(default_profile="p", profiles={"p": Profile(auth="managed-identity", client_id=PROFILE_MI)})
    assert Session(SessionOptions(), profiles).connect().auth.client_id == PROFILE_MI
    assert Session(SessionOptions(client_id=OPTION_MI), profiles).connect().auth.client_id == OPTION_MI
    # Other ways to sign in take no managed identity: AZURE_CLIENT_ID is EnvironmentCredential's own there.
    assert Session(SessionOptions(auth="cli"), Settings()).connect().auth.client_id is None


@pytest.mark.parametrize("client_id", ["", "my-identity", "/subscriptions/x/resourceGroups/g"])
def test_a_client_id_that_is_no_guid_is_a_usage_error(client_id: str) -> None:
    with pytest.raises(UsageError, match=r"--client-id: .* is not a client id"):
        Session(SessionOptions(auth="managed-identity", client_id=client_id), Settings()).connect()


def test_a_running_sandbox_is_used_and_left_running(sandbox_server: SandboxServer) -> None:
    subs = sandbox_server.connection["subscriptions"] if sandbox_server.connection else []
    options = SessionOptions(sandbox_data=str(sandbox_server.data_dir), subscriptions=(subs[0],), read_only=True)
    with Session(options, Settings()) as session:
        conn = session.connect()
    assert conn.sandbox and conn.subscriptions == (subs[0],) and conn.read_only
    assert read_connection(sandbox_server.data_dir) is not None  # not this session's to stop


def test_a_sandbox_the_session_started_stops_with_it(tmp_path: Path) -> None:
    data = tmp_path / "sbx"
    with Session(SessionOptions(sandbox_data=str(data)), Settings()) as session:
        # The sign-in screen's way into the sandbox, from a connection that failed to sign in.
        failed = session.connect(Target(Profile(auth="env", subscriptions=(SUB,))))
        conn = session.sign_in_instead(failed, SANDBOX)
        assert conn.sandbox and conn.subscriptions == (SUB,)
        assert read_connection(data) is not None
    assert read_connection(data) is None and not (data / "connection.json").exists()


def test_bad_fault_spec_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    # Refused before anything is served.
    assert main(["sandbox", "serve", "--data", "unused", "--faults", "arm:boom:0.5"]) == EXIT_USAGE
    assert "error: --faults:" in capsys.readouterr().err


def _acr_console(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "acr_console", *args], capture_output=True, text=True, timeout=120,
                          env=env or dict(os.environ))


def test_serving_a_folder_another_sandbox_serves_fails_with_exit_1(sandbox_server: SandboxServer) -> None:
    result = _acr_console("sandbox", "serve", "--data", str(sandbox_server.data_dir))
    assert result.returncode == 1, result.stderr
    assert "already serving" in result.stderr and "use that server, or stop it first" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_console_refuses_an_unknown_profile_before_it_opens(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[profiles.demo]\nsandbox = true\n')
    result = _acr_console("--profile", "nope", env={**os.environ, "ACR_CONSOLE_CONFIG": str(config)})
    assert result.returncode == EXIT_USAGE
    assert "error: no profile 'nope'" in result.stderr and "Traceback" not in result.stderr


def test_a_command_never_loads_the_console() -> None:
    # The entry point sits above both front ends; only the console's way imports Textual.
    code = ("import sys; from acr_console.main import build_parser; "
            "build_parser(['registries', '--json']).parse_args(['registries', '--json']); "
            "print(sorted(m for m in sys.modules if m.startswith(('textual', 'acr_console.tui'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"




def test_read_only_of_the_configuration_holds_under_every_profile() -> None:
    settings = Settings(read_only=True, profiles={"ops": Profile(read_only=False)}, default_profile="ops")
    assert resolve(SessionOptions(), settings).profile.read_only is True
    assert resolve(SessionOptions(profile="ops"), settings).profile.read_only is True
    # Any one side is enough; none of them lifts another's.
    assert resolve(SessionOptions(read_only=True), Settings()).profile.read_only is True
    assert resolve(SessionOptions(), Settings(profiles={"x": Profile(read_only=True)}, default_profile="x")
                   ).profile.read_only is True


def test_subscriptions_are_guids_on_the_command_line_and_in_a_profile() -> None:
    from acr_console.main import build_parser

    args = build_parser(["registries"]).parse_args(["--subscription", SUB, "registries"])
    assert SessionOptions.from_args(args).subscriptions == (SUB,)
    with pytest.raises(ValueError, match="'prod' is not a subscription id"):
        Profile(subscriptions=("prod",))
    with pytest.raises(ValueError, match="not a subscription id"):
        Profile(subscriptions=(SUB + "0",))

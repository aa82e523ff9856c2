"""Workspaces from the command line, `plait.Remote` and `%plait debug`, against a real `plait server`.

One server for the module, which starts a real code-server for the workspace the
tests create from a `workspace.yaml` written by `plait create workspace-config`.
The tests follow one workspace through its life in order (create, list, update,
stop, start, archive); the refusals (a bad file, an unknown secret, a duplicate
name) are checked to create nothing.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from plait.cli import main
from plait.config.workspaces import WorkspaceSpecError, load_spec
from plait.remote import Remote, RemoteUserError, WaitTimeout
from plait.remote.workspaces import WorkspaceFailed, WorkspaceInfo

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "backend"))
sys.path.insert(0, str(TESTS / "notebook"))
from kernels import KERNEL, Kernel, kernel_manager  # noqa: E402
from server_fixture import ServerProcess, running_server  # noqa: E402

pytestmark = pytest.mark.slow

NAME = "cli-ws"
PROXIED = f"/workspaces/default/development/{NAME}/"

# A workflow whose second task fails on its input, for the debug workspace.
FAILING = '''\
import plait


@plait.task
def measure(n: int) -> list[int]:
    return list(range(n))


@plait.task
def ratio(values: list[int]) -> float:
    return values[-1] / values[0]  # values[0] is 0: ZeroDivisionError


@plait.workflow
def report(n: int) -> float:
    return ratio(values=measure(n=n))
'''


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("workspace-cli-home")) as started:
        yield started


@pytest.fixture(scope="module")
def remote(server: ServerProcess) -> Iterator[Remote]:
    with server.remote() as client:
        yield client


def cli(server: ServerProcess | None, *args: str) -> Result:
    options = ({"remote": {"endpoint": server.url, "token": server.token, "autostart": False}}
               if server else {})
    return CliRunner().invoke(main, list(args), obj=options, env={"COLUMNS": "250", "TZ": "UTC"})


def rows(output: str) -> list[list[str]]:
    """The cells of a table's body rows."""
    return [[c.strip() for c in line.strip("│").split("│")] for line in output.splitlines()
            if line.startswith("│")]


def header(output: str) -> list[str]:
    """The column names of a table."""
    line = next(line for line in output.splitlines() if line.startswith("┃"))
    return [c.strip() for c in line.strip("┃").split("┃")]


def names(remote: Remote, **options: object) -> list[str]:
    return sorted(w.name for w in remote.list_workspaces(**options))  # type: ignore[arg-type]


def workspace_file(folder: Path, name: str, **changes: str) -> Path:
    """A workspace.yaml from `plait create workspace-config`, with `changes` as yaml lines."""
    path = folder / f"{name}.yaml"
    made = cli(None, "create", "workspace-config", "--init", "base_image", str(path), "--name", name)
    assert made.exit_code == 0, made.output
    text = path.read_text()
    for key, value in changes.items():
        text, count = re.subn(rf"^{key}:.*$", f"{key}: {value}", text, flags=re.M)
        if not count:
            text += f"{key}: {value}\n"
    path.write_text(text)
    return path


# ------------------------------------------------------------------ without a server


def test_workspace_config_writes_a_file_that_create_accepts(tmp_path: Path) -> None:
    path = tmp_path / "workspace.yaml"
    made = cli(None, "create", "workspace-config", "--init", "custom_image", str(path),
               "--project", "flytesnacks")
    assert made.exit_code == 0, made.output
    assert f"wrote {path}: edit it, then `plait create workspace {path}`" in made.output
    spec = load_spec(path)
    assert (spec.name, spec.project, spec.domain) == ("my-workspace", "flytesnacks", "development")
    assert isinstance(spec.container_image, dict) and spec.container_image["packages"]
    again = cli(None, "create", "workspace-config", "--init", "base_image", str(path))
    assert again.exit_code == 1
    assert "exists; pass --force to overwrite it" in again.output
    assert load_spec(path) == spec  # untouched
    forced = cli(None, "create", "workspace-config", "--init", "base_image", str(path), "--force")
    assert forced.exit_code == 0 and load_spec(path).container_image is None


def test_workspace_config_needs_a_known_kind(tmp_path: Path) -> None:
    made = cli(None, "create", "workspace-config", "--init", "gpu", str(tmp_path / "w.yaml"))
    assert made.exit_code == 2
    assert "'gpu' is not one of 'base_image', 'custom_image'" in made.output
    assert not (tmp_path / "w.yaml").exists()


def test_the_commands_are_where_the_reference_has_them() -> None:
    for args in (["create", "workspace"], ["get", "workspace"], ["update", "workspace"],
                 ["start", "workspace"], ["stop", "workspace"], ["archive", "workspace"],
                 ["unarchive", "workspace"], ["workspace", "debug"]):
        shown = cli(None, *args, "--help")
        assert shown.exit_code == 0, (args, shown.output)
    missing = cli(None, "stop", "workspace")
    assert missing.exit_code == 2 and "Missing option '--name'" in missing.output


# ------------------------------------------------------------------ one workspace's life


@pytest.fixture(scope="module")
def created(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    path = workspace_file(tmp_path_factory.mktemp("ws"), NAME, ttl_seconds="1200",
                          on_startup='"echo getting ready"')
    return cli(server, "create", "workspace", str(path)), path


def test_create_waits_for_active_and_prints_a_link_that_opens_vs_code(
        server: ServerProcess, created: tuple[Result, Path]) -> None:
    result, _ = created
    assert result.exit_code == 0, result.output + server.log_tail()
    assert f"Creating workspace '{NAME}' in default/development and starting it" in result.stderr
    assert f"workspace '{NAME}': ACTIVE" in result.stderr  # the progress line
    *_, said, url = result.stdout.strip().splitlines()
    assert said == f"Workspace '{NAME}' started: open VS Code in the browser at"
    assert url.startswith(f"{server.url}{PROXIED}?ticket="), url
    with httpx.Client(follow_redirects=True, timeout=30) as browser:  # no token: the link logs in
        page = browser.get(url)
        assert page.status_code == 200, page.text[:500]
        assert "vscode" in page.text.lower() or "workbench" in page.text.lower()
        again = browser.get(f"{server.url}{PROXIED}")  # the cookie it set opens it again
        assert again.status_code == 200
    assert httpx.get(f"{server.url}{PROXIED}", timeout=30).status_code in (401, 403)


def test_get_workspace_is_the_reference_table(server: ServerProcess,
                                              created: tuple[Result, Path]) -> None:
    listed = cli(server, "get", "workspace")
    assert listed.exit_code == 0, listed.output
    assert header(listed.output) == ["Workspace name", "CPU", "Memory", "GPU", "Accelerator",
                                     "TTL Seconds", "Active URL"]
    assert [NAME, "2", "4Gi", "-", "-", "1200", f"{server.url}{PROXIED}"] in rows(listed.output)
    one = cli(server, "get", "workspace", "--name", NAME)
    assert one.exit_code == 0, one.output
    assert re.search(r"^Phase:\s+ACTIVE$", one.output, re.M), one.output
    assert re.search(r"^Description:\s+my workspace description$", one.output, re.M)


def test_the_log_has_on_startup_output(remote: Remote, created: tuple[Result, Path]) -> None:
    assert any("getting ready" in line for line in remote.workspace_log(NAME))


def test_a_bad_file_names_the_field_and_creates_nothing(server: ServerProcess, remote: Remote,
                                                        tmp_path: Path) -> None:
    before = names(remote)
    path = workspace_file(tmp_path, "typo-ws", ttl_second="60")
    result = cli(server, "create", "workspace", str(path))
    assert result.exit_code == 1
    assert "unknown field 'ttl_second'" in result.output and "did you mean 'ttl_seconds'?" in result.output
    path = workspace_file(tmp_path, "mem-ws")
    path.write_text(path.read_text().replace('mem: "4Gi"', 'mem: "4GB"'))
    result = cli(server, "create", "workspace", str(path))
    assert result.exit_code == 1 and "resources.mem" in result.output and "'4Gi'" in result.output
    assert names(remote) == before


def test_an_unknown_secret_is_refused_by_the_server_and_creates_nothing(
        server: ServerProcess, remote: Remote, tmp_path: Path) -> None:
    path = workspace_file(tmp_path, "secret-ws", secrets="[{key: no_such_secret}]")
    result = cli(server, "create", "workspace", str(path))
    assert result.exit_code == 1
    assert "no_such_secret" in result.output, result.output
    with pytest.raises(WorkspaceSpecError, match="no_such_secret"):
        remote.create_workspace(path)
    with pytest.raises(RemoteUserError) as missing:
        remote.get_workspace("secret-ws")
    assert missing.value.status == 404


def test_a_second_workspace_of_the_same_name_is_refused(
        server: ServerProcess, created: tuple[Result, Path]) -> None:
    _, path = created
    result = cli(server, "create", "workspace", str(path))
    assert result.exit_code == 1
    assert NAME in result.output and "409" not in result.output.split("Error:")[0]


def test_update_changes_all_but_the_name_and_says_a_restart_is_needed(
        server: ServerProcess, remote: Remote, created: tuple[Result, Path]) -> None:
    _, path = created
    text = path.read_text().replace("ttl_seconds: 1200", "ttl_seconds: 900")
    text = text.replace("my workspace description", "the team's notebook")
    path.write_text(text)
    result = cli(server, "update", "workspace", str(path))
    assert result.exit_code == 0, result.output
    assert f"Updated workspace '{NAME}' in default/development" in result.output
    assert f"`plait stop workspace --name {NAME}`" in result.output  # it runs: restart needed
    info = remote.get_workspace(NAME)
    assert (info.description, info.spec["ttl_seconds"]) == ("the team's notebook", 900)
    assert info.restart_needed
    assert info.to_spec() == load_spec(path)


def test_stop_then_start_again(server: ServerProcess, remote: Remote,
                               created: tuple[Result, Path]) -> None:
    stopped = cli(server, "stop", "workspace", "--name", NAME)
    assert stopped.exit_code == 0, stopped.output + server.log_tail()
    assert stopped.stdout.startswith(f"Workspace '{NAME}' stopped")
    inactive = cli(server, "get", "workspace", "--inactive")
    assert [NAME, "2", "4Gi", "-", "-", "900", "-"] in rows(inactive.output)
    active = cli(server, "get", "workspace", "--active")
    assert "no active workspaces in default/development" in active.output
    info = remote.get_workspace(NAME)
    assert (info.phase, info.active, info.url) == ("STOPPED", False, None)
    with pytest.raises(RemoteUserError, match=f"workspace '{NAME}' is STOPPED: start it"):
        remote.workspace_url(NAME)
    asked = cli(server, "start", "workspace", "--name", NAME, "--no-wait")
    assert asked.exit_code == 0, asked.output
    assert asked.stdout == (f"workspace '{NAME}' is STOPPED, on its way to ACTIVE; "
                            f"`plait get workspace --name {NAME}` follows it\n")
    started = cli(server, "start", "workspace", "--name", NAME)  # waits for it
    assert started.exit_code == 0, started.output + server.log_tail()
    assert started.stdout.strip().splitlines()[-1].startswith(f"{server.url}{PROXIED}?ticket=")
    assert remote.get_workspace(NAME).restart_needed is False


def test_remote_waits_and_links(server: ServerProcess, remote: Remote,
                                created: tuple[Result, Path]) -> None:
    seen: list[str] = []
    info = remote.stop_workspace(NAME, on_progress=lambda w: seen.append(w.phase))
    assert isinstance(info, WorkspaceInfo) and info.phase == "STOPPED"
    assert seen[-1] == "STOPPED" and "ACTIVE" not in seen  # the phase it left is not news
    with pytest.raises(WaitTimeout, match=f"workspace '{NAME}' is still [A-Z]+ after 0.001 s"):
        remote.start_workspace(NAME, timeout=0.001)
    seen.clear()
    info = remote.start_workspace(NAME, on_progress=lambda w: seen.append(w.phase))
    assert info.phase == "ACTIVE" and info.url == PROXIED
    assert seen[-1] == "ACTIVE" and "STOPPED" not in seen
    url = remote.workspace_url(NAME)
    assert url.startswith(f"{server.url}{PROXIED}?ticket=")
    assert [w.name for w in remote.list_workspaces(active=True)] == [NAME]


def test_archive_hides_it_and_unarchive_brings_it_back(server: ServerProcess, remote: Remote,
                                                       created: tuple[Result, Path]) -> None:
    archived = cli(server, "archive", "workspace", "--name", NAME)
    assert archived.exit_code == 0, archived.output
    assert f"Archived workspace '{NAME}'" in archived.output
    info = remote.get_workspace(NAME)
    assert info.archived and info.phase == "STOPPED"
    assert NAME not in names(remote)
    listed = cli(server, "get", "workspace", "--archived")
    assert "Archived workspaces in default/development" in listed.output
    assert [NAME, "2", "4Gi", "-", "-", "900", "-"] in rows(listed.output)
    refused = cli(server, "start", "workspace", "--name", NAME)
    assert refused.exit_code == 1 and NAME in refused.output
    back = cli(server, "unarchive", "workspace", "--name", NAME)
    assert back.exit_code == 0 and f"Unarchived workspace '{NAME}'" in back.output
    assert NAME in names(remote)


def test_an_unknown_workspace_is_named(server: ServerProcess) -> None:
    result = cli(server, "get", "workspace", "--name", "nowhere")
    assert result.exit_code == 1 and "nowhere" in result.output


def test_a_failing_on_startup_raises_with_the_reason_and_the_log(remote: Remote) -> None:
    spec = {"name": "broken-ws", "on_startup": ["echo preparing data", "exit 3"]}
    with pytest.raises(WorkspaceFailed) as failed:
        remote.create_workspace(spec, timeout=60)
    assert failed.value.workspace == "broken-ws"
    assert "FAILED" in str(failed.value) and failed.value.reason in str(failed.value)
    assert any("preparing data" in line for line in failed.value.log)
    assert "`plait start workspace --name broken-ws`" in str(failed.value)
    assert remote.get_workspace("broken-ws").phase == "FAILED"
    stopped = remote.stop_workspace("broken-ws", timeout=30)  # not running: no wait, no raise
    assert stopped.phase in ("FAILED", "STOPPED") and stopped.desired == "STOPPED"


# ------------------------------------------------------------------ debugging a failed node


@pytest.fixture(scope="module")
def failed_run(remote: Remote, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """An execution of `report` whose `ratio` node failed: (execution id, node id)."""
    program = tmp_path_factory.mktemp("debug-program") / "ratios.py"
    program.write_text(FAILING)
    remote.register(str(program), version="v1")
    run = remote.execute(remote.fetch_workflow("ratios.report", "v1"), {"n": 3}, wait=True,
                         timeout=120)
    assert run.phase == "FAILED", run.phase
    failed = [n for n in run.nodes() if n.phase == "FAILED"]
    assert failed, run.nodes()
    return run.id, failed[0].path


def test_debug_opens_a_workspace_on_the_failed_node(server: ServerProcess, remote: Remote,
                                                    failed_run: tuple[str, str]) -> None:
    execution, node = failed_run
    result = cli(server, "workspace", "debug", execution, node, "--name", "debug-ratio")
    assert result.exit_code == 0, result.output + server.log_tail()
    *_, url, hint = result.stdout.strip().splitlines()
    assert url.startswith(f"{server.url}/workspaces/default/development/debug-ratio/?ticket=")
    assert hint.startswith("Open debug_ratio.py and start it with Run and Debug (F5)")
    info = remote.get_workspace("debug-ratio")
    assert info.origin and (info.origin["execution_id"], info.origin["node_id"]) == (execution, node)
    shown = cli(server, "get", "workspace", "--name", "debug-ratio")
    assert f"node {node} of execution {execution}" in shown.output
    remote.stop_workspace("debug-ratio")


def test_debug_refuses_a_node_that_did_not_fail(server: ServerProcess, remote: Remote,
                                                failed_run: tuple[str, str]) -> None:
    execution, _ = failed_run
    run = remote.fetch_execution(execution)
    succeeded = next(n.path for n in run.nodes() if n.phase == "SUCCEEDED")
    result = cli(server, "workspace", "debug", execution, succeeded)
    assert result.exit_code == 1
    assert succeeded in result.output


# ------------------------------------------------------------------ %plait debug


@pytest.fixture(scope="module")
def kernel(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    """A kernel whose PLAIT_HOME is the server's (it finds the server there, as a user's does)."""
    dirs = tmp_path_factory.mktemp("kernels")
    (dirs / KERNEL).mkdir()
    (dirs / KERNEL / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "plait tests", "language": "python"}))
    km = kernel_manager([str(dirs)])
    env = {k: v for k, v in os.environ.items() if k not in ("PLAIT_ENDPOINT", "PLAIT_TOKEN")}
    km.start_kernel(env={**env, "PLAIT_HOME": str(server.home)})
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    k = Kernel(client)
    k.ok("%load_ext plait")
    yield k
    client.stop_channels()
    km.shutdown_kernel(now=True)


def test_plait_debug_links_the_workspace_in_the_notebook(
        server: ServerProcess, remote: Remote, kernel: Kernel, failed_run: tuple[str, str]) -> None:
    execution, node = failed_run
    reply = kernel.run(f"%plait debug {execution} {node} --name nb-debug", timeout=300)
    assert reply.status == "ok", reply.error or reply.stderr
    assert "workspace 'nb-debug': ACTIVE" in reply.stdout
    (html,) = reply.displays("text/html")
    link = re.search(r"<a href='([^']+)' target='_blank'", html)
    assert link and link.group(1).startswith(
        f"{server.url}/workspaces/default/development/nb-debug/?ticket="), html
    assert ">Open in VS Code</a>" in html
    (text,) = reply.displays("text/plain")
    assert link.group(1).replace("&amp;", "&") in text
    assert "Open debug_ratio.py and start it with Run and Debug." in text
    remote.stop_workspace("nb-debug")


@pytest.mark.parametrize(("line", "message"), [
    ("%plait debug onlyone", "expects an EXECUTION and a NODE, got 1 word(s)"),
    ("%plait debug e n --timeout soon", "--timeout expects a number of seconds above 0, got 'soon'"),
    ("%plait debug e n --colour red", "unknown option --colour"),
])
def test_plait_debug_mistakes_say_what_to_write(kernel: Kernel, line: str, message: str) -> None:
    reply = kernel.run(line)
    assert reply.status == "error"
    assert reply.error and reply.error["ename"] == "CellError"
    assert message in reply.error["evalue"]


def test_plait_debug_of_an_unknown_execution_says_so(kernel: Kernel) -> None:
    reply = kernel.run("%plait debug nosuchexecution n0")
    assert reply.status == "error" and reply.error
    assert "nosuchexecution" in reply.error["evalue"]


def test_the_debug_command_is_in_the_help(kernel: Kernel) -> None:
    assert "%plait debug EXEC NODE" in kernel.ok("%plait help").stdout


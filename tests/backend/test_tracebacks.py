"""A failed task's traceback shows the user's code first, under the names it was registered with.

On a real backend: `tests/resources/tracebacks/pipelines/` is registered as a folder, so its
files travel as `pipelines/train.py` and `pipelines/util/checks.py`; the worker runs them from
a temporary folder, through its own frames. The stored `traceback` must hold only the user's
frames under the registered names, `full_traceback` every frame. Then the shaping itself
(`plait.backend.execution.tracebacks`), on exceptions raised through a stand-in for plait's
frames, and the worker's error record (masked, trimmed).
"""

from __future__ import annotations

import importlib.util
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner
from plait.backend.execution import tracebacks, worker
from plait.cli import main
from plait.remote import ExecutionFailed, Remote
from server_fixture import running_server

PIPELINES = Path(__file__).parent.parent / "resources" / "tracebacks" / "pipelines"
FILE_LINE = re.compile(r'^  File "([^"]+)", line \d+, in (\S+)$', re.MULTILINE)


def files_of(trace: str) -> list[str]:
    """The file of each frame, in order."""
    return [m.group(1) for m in FILE_LINE.finditer(trace)]


# ------------------------------------------------------------------ on a real backend


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_server(tmp_path_factory.mktemp("tracebacks-home")) as started:
        yield started


@pytest.fixture(scope="module")
def remote(server: Any) -> Iterator[Remote]:
    with server.remote() as client:
        client.register(str(PIPELINES))
        yield client


def failed_node(remote: Remote, task: str, inputs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    run = remote.execute(remote.fetch_task(task), inputs, wait=True, timeout=60)
    assert run.phase == "FAILED", run.record
    (node,) = run.nodes()
    return run, node.error


def test_a_failing_task_shows_the_users_frames_first_under_their_registered_names(remote: Remote,
                                                                                   server: Any) -> None:
    run, error = failed_node(remote, "pipelines.train.train", {"rate": -1.0})
    trace = error["traceback"]
    lines = trace.rstrip().splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == '  File "pipelines/train.py", line 8, in train'
    assert files_of(trace) == ["pipelines/train.py", "pipelines/util/checks.py"]
    assert lines[-1] == "ValueError: learning rate must be positive, got -1.0"
    assert "plait-bundles" not in trace

    full = error["full_traceback"]  # nothing is lost: plait's frames are kept beside it
    full_files = files_of(full)
    assert full_files[-2:] == ["pipelines/train.py", "pipelines/util/checks.py"]
    assert any(f.endswith("execution/worker.py") for f in full_files[:-2])
    assert any(f.endswith("run/attempt.py") for f in full_files[:-2])
    assert error["folded_frames"] == len(full_files) - 2
    assert full.rstrip().endswith("ValueError: learning rate must be positive, got -1.0")
    assert "plait-bundles" not in full

    assert run.error["traceback"] == trace and run.error["node"] == "n0"  # the execution's error too
    assert 'File "pipelines/util/checks.py", line 6, in check_rate' in run.logs("n0")
    with pytest.raises(ExecutionFailed) as failed:
        _ = run.outputs
    (note,) = failed.value.__notes__
    assert note.startswith("node n0 failed on the backend:\nTraceback (most recent call last):\n"
                           '  File "pipelines/train.py", line 8, in train')

    options = {"remote": {"endpoint": server.url, "token": server.token, "autostart": False}}
    shown = CliRunner().invoke(main, ["get", "execution", run.id], obj=options, env={"COLUMNS": "200"})
    assert shown.output.rstrip().endswith(f"traceback of node n0:\n{trace.rstrip()}"), shown.output


def test_a_chained_exception_keeps_both_parts_and_the_library_frames_the_user_called(remote: Remote) -> None:
    _, error = failed_node(remote, "pipelines.train.configure", {"text": "epochs: 3"})
    trace = error["traceback"]
    cause, _, effect = trace.partition("The above exception was the direct cause of the following exception:")
    assert files_of(cause)[0] == "pipelines/util/checks.py"  # where it was caught, down to json
    assert any(f.endswith("json/decoder.py") for f in files_of(cause))  # called by the user: shown
    assert "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)" in cause
    assert files_of(effect) == ["pipelines/train.py", "pipelines/util/checks.py"]
    assert effect.rstrip().endswith("ValueError: the training config is not JSON: 'epochs: 3'")
    assert not any("execution/worker.py" in f for f in files_of(trace))
    assert error["folded_frames"] > 0


def test_a_task_that_fails_inside_plait_keeps_its_full_traceback(remote: Remote) -> None:
    _, error = failed_node(remote, "pipelines.train.count_rows", {})
    files = files_of(error["traceback"])
    assert files and all("pipelines/" not in f for f in files)  # no frame of the user's ran
    assert any(f.endswith("execution/worker.py") for f in files)
    assert "full_traceback" not in error and "folded_frames" not in error


# ------------------------------------------------------------------ the shaping

DIGEST = "0" * 64
FRAMEWORK = '''
    import contextlib
    import importlib.util
    import json


    @contextlib.contextmanager
    def _step():
        yield


    def run(fn, *args):
        """Call `fn` as a worker does: through frames of its own and of a library (contextlib)."""
        return _step()(fn)(*args)


    def deep(depth, fn, *args):
        """`fn` called `depth` frames down (two functions, so Python lists every frame)."""
        return deeper(depth - 1, fn, *args) if depth else run(fn, *args)


    def deeper(depth, fn, *args):
        return deep(depth, fn, *args)


    def load(path, name):
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


    def parse_settings(text):
        """An API of plait's that the user's code calls; it fails in a library."""
        return json.loads(text)


    def broken():
        raise RuntimeError("the runner broke")


    def attempt(fn, *args):
        """The exception `fn` raises, caught here as the worker catches a task's."""
        try:
            run(fn, *args)
        except Exception as exc:
            return exc
        raise AssertionError("the call did not fail")
'''
USER_CODE = '''
    import json


    def train(rate):
        return check_rate(rate) * 2


    def check_rate(rate):
        if rate <= 0:
            raise ValueError(f"learning rate must be positive, got {rate}")
        return rate


    def configure(text):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError("the config is not JSON") from exc


    def settings(plait, text):
        return plait.parse_settings(text)


    def leak(token):
        raise PermissionError(f"the server refused token {token}")
'''


class World:
    """A stand-in for plait (`fw/`) and a bundle extracted as the worker extracts one."""

    def __init__(self, root: Path) -> None:
        self.fw_dir = root / "fw"
        self.bundle = root / "plait-bundles-abc" / DIGEST
        (self.bundle / "pipelines").mkdir(parents=True)
        self.fw_dir.mkdir()
        (self.fw_dir / "runner.py").write_text(textwrap.dedent(FRAMEWORK))
        (self.bundle / "pipelines" / "train.py").write_text(textwrap.dedent(USER_CODE))
        (self.bundle / "pipelines" / "broken.py").write_text("def oops(:\n    pass\n")
        self.fw = _load(self.fw_dir / "runner.py", f"fw_runner_{id(self)}")
        self.user = _load(self.bundle / "pipelines" / "train.py", f"pipelines_train_{id(self)}")

    def shaped(self, fn: Callable[..., Any], *args: Any) -> tracebacks.Shaped:
        exc = self.fw.attempt(fn, *args)
        return tracebacks.shape(exc, bundles=[str(self.bundle)], plait_dirs=[str(self.fw_dir)])


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_plaits_frames_are_folded_and_the_users_named_as_registered(world: World) -> None:
    shaped = world.shaped(world.user.train, -1)
    assert files_of(shaped.user) == ["pipelines/train.py", "pipelines/train.py"]
    assert shaped.user.splitlines()[2] == "    return check_rate(rate) * 2"  # source lines still read
    assert shaped.user.rstrip().endswith("ValueError: learning rate must be positive, got -1")
    full = files_of(shaped.full)
    assert full[-2:] == ["pipelines/train.py", "pipelines/train.py"]
    assert str(world.fw_dir / "runner.py") in full and any(f.endswith("contextlib.py") for f in full)
    assert shaped.folded == len(full) - 2
    assert str(world.bundle) not in shaped.full


def test_library_frames_show_when_the_user_called_them_and_fold_when_plait_did(world: World) -> None:
    shaped = world.shaped(world.user.settings, world.fw, "{")
    files = files_of(shaped.user)
    assert files == ["pipelines/train.py"]  # parse_settings (plait's) and the json it called are folded
    assert any(f.endswith("json/decoder.py") for f in files_of(shaped.full))

    shaped = world.shaped(world.user.configure, "{")
    cause, _, effect = shaped.user.partition("The above exception was the direct cause")
    assert files_of(cause)[0] == "pipelines/train.py"
    assert any(f.endswith("json/decoder.py") for f in files_of(cause))  # the user called json
    assert files_of(effect) == ["pipelines/train.py"]
    assert effect.rstrip().endswith("ValueError: the config is not JSON")


def test_an_error_of_plaits_own_keeps_every_frame(world: World) -> None:
    shaped = world.shaped(world.fw.broken)
    assert shaped.user == shaped.full and shaped.folded == 0
    assert files_of(shaped.user)[-1] == str(world.fw_dir / "runner.py")


def test_a_syntax_error_in_a_registered_file_points_at_it(world: World) -> None:
    shaped = world.shaped(world.fw.load, world.bundle / "pipelines" / "broken.py", "broken")
    assert 'File "pipelines/broken.py", line 1' in shaped.user
    assert str(world.fw_dir) not in shaped.user and "importlib" not in shaped.user
    assert shaped.user.rstrip().splitlines()[-1].startswith("SyntaxError:")
    assert shaped.folded > 0


def test_trim_keeps_the_first_frames_and_the_exception_line() -> None:
    frames = "".join(f'  File "pipelines/step{i}.py", line {i}, in step{i}\n    step{i + 1}()\n' for i in range(500))
    text = f"Traceback (most recent call last):\n{frames}RecursionError: too deep\n"
    trimmed = tracebacks.trim(text, 2000)
    assert len(trimmed) < 2100
    assert trimmed.startswith('Traceback (most recent call last):\n  File "pipelines/step0.py", line 0')
    assert trimmed.endswith("    step500()\nRecursionError: too deep\n")
    left_out = int(re.search(r"… (\d+) characters left out …", trimmed).group(1))  # type: ignore[union-attr]
    assert len(trimmed) - len(f"  … {left_out} characters left out …\n") + left_out == len(text)
    assert tracebacks.trim(text, len(text)) == text


def test_the_workers_error_masks_secrets_and_cuts_plaits_part_before_the_users(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracebacks, "PLAIT_DIRS", (str(world.fw_dir),))
    monkeypatch.setitem(worker._bundles, DIGEST, str(world.bundle))
    token = "tok-4f9a1c2e77"
    exc = world.fw.attempt(world.fw.deep, 400, world.user.leak, token)  # 800 of plait's frames, then one
    error = worker._error(exc, masker=worker.Masker([token]))
    raise_line = '    raise PermissionError(f"the server refused token {token}")'
    line = textwrap.dedent(USER_CODE).splitlines().index(raise_line) + 1
    assert error["message"] == "the server refused token ****"
    assert error["traceback"] == (
        "Traceback (most recent call last):\n"
        f'  File "pipelines/train.py", line {line}, in leak\n'
        f"{raise_line}\n"
        "PermissionError: the server refused token ****\n"
    )
    assert len(error["full_traceback"]) <= worker.TRACEBACK_LIMIT + 60
    assert "characters left out" in error["full_traceback"] and token not in error["full_traceback"]
    assert error["full_traceback"].endswith(error["traceback"].split("\n", 1)[1])
    assert error["folded_frames"] > 800

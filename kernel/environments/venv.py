"""The embedded builder: an ImageSpec as a virtual environment under `$PLAIT_HOME/envs/<hash>`.

    envs/
      <hash>/                 a complete environment (uv venv, relocatable)
        plait-env.json        written last, before the folder takes its name: it is complete
        build.log             what the builder printed
        root/                 the files the spec pulls in, at the paths it names them
        lib/python3.X/site-packages/zz-plait-base.pth   the base layer (base.py)
      <hash>.lock             held while <hash> is built
      <hash>.failed.log       the last failed build's output (removed by a good build)
      .building-<hash>-...    a build in progress, renamed to <hash> when complete

One build per hash: a builder takes `<hash>.lock` (threads and processes
alike), looks again, builds into a `.building-` folder, and renames it. A
failed build leaves only its log. Resolving a complete environment is a hash
and a stat.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..config.image_spec import ImageSpec, PulledFile, files_under
from ..model.home import ENVS, ensure_private, open_file_private, plait_home
from .base import BaseLayer, current_base
from .errors import BuilderMissing, EnvironmentBuildError, EnvironmentRefused
from .refusals import missing_files, refusals

MARKER = "plait-env.json"
BUILD_LOG = "build.log"
WORKDIR = "root"
PTH = "zz-plait-base.pth"  # after other .pth files, so theirs come before the base's folders
TAIL_LINES = 20


@dataclass(frozen=True)
class Environment:
    """A built environment: where it is, and what a process in it needs."""

    spec: ImageSpec
    key: str  # the content hash, its folder's name
    path: Path
    image_name: str  # what `spec.is_container()` compares with, inside it
    built: bool  # built by this call (False: it was there)

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def workdir(self) -> Path:
        """The files the spec pulls in, at the paths the spec names them: a task's working
        directory in this environment (`open('files/input.txt')` reads the copied file)."""
        return self.path / WORKDIR

    def variables(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment variables a process in this environment needs: the spec's `env`,
        VIRTUAL_ENV, PATH with the environment's bin/ first, and PLAIT_IMAGE_NAME (so that
        `spec.is_container()` is True there)."""
        path = (os.environ if environ is None else environ).get("PATH", os.defpath)
        return {
            **(self.spec.env or {}),
            "VIRTUAL_ENV": str(self.path),
            "PATH": f"{self.path / 'bin'}{os.pathsep}{path}",
            "PLAIT_IMAGE_NAME": self.image_name,
        }


def envs_dir(home: str | os.PathLike[str] | None = None) -> Path:
    return Path(home) / ENVS if home is not None else plait_home() / ENVS


def env_key(spec: ImageSpec, root: str | os.PathLike[str] | None = None,
            base: BaseLayer | None = None) -> str:
    """The environment's hash: the spec's contents and files, and the base layer."""
    base = base or current_base()
    content = {"spec": spec.spec_hash(root), "base": base.identity()}
    raw = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).digest()
    return base64.b32encode(raw[:20]).decode().rstrip("=").lower()


def find(spec: ImageSpec, *, home: str | os.PathLike[str] | None = None,
         root: str | os.PathLike[str] | None = None) -> Environment | None:
    """The complete environment of `spec`, or None if it is not built yet."""
    key = env_key(spec, root)
    path = envs_dir(home) / key
    if not (path / MARKER).is_file():
        return None
    return Environment(spec, key, path, spec.image_name(root), built=False)


def resolve(spec: ImageSpec, *, home: str | os.PathLike[str] | None = None,
            root: str | os.PathLike[str] | None = None,
            timeout_s: float | None = None) -> Environment:
    """The environment of `spec`, built now if it is not there yet (once, whoever asks).

    Relative paths of the spec (requirements, source_root, copy) are read from
    `root`, the current directory by default. Raises EnvironmentRefused for
    what a venv cannot honour, EnvironmentBuildError (with the builder's last
    lines) when the build fails, BuilderMissing when uv is not installed.
    """
    found = find(spec, home=home, root=root)
    if found is not None:
        return found
    problems = refusals(spec, "venv") or missing_files(spec, root)
    if problems:
        raise EnvironmentRefused(problems)
    base = current_base()
    key = env_key(spec, root, base)
    envs = ensure_private(envs_dir(home))
    final = envs / key
    with _locked(envs / f"{key}.lock"):
        if (final / MARKER).is_file():  # another builder finished while this one waited
            return Environment(spec, key, final, spec.image_name(root), built=False)
        for stale in envs.glob(f".building-{key}-*"):  # left by a builder that died
            shutil.rmtree(stale, ignore_errors=True)
        if final.exists():  # not complete (no marker): never used, replace it
            shutil.rmtree(final, ignore_errors=True)
        _build(spec, key, envs, root, base, timeout_s)
    return Environment(spec, key, final, spec.image_name(root), built=True)


@contextlib.contextmanager
def _locked(path: Path):  # type: ignore[no-untyped-def]
    import fcntl

    fd = open_file_private(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def uv_bin() -> str:
    """The uv binary that the `uv` package ships."""
    try:
        import uv
    except ImportError:
        raise BuilderMissing(
            "the venv builder needs uv, which is not installed in this Python; install "
            "plait[server] (or `pip install uv`)"
        ) from None
    return uv.find_uv_bin()


def _site_packages(env: Path, base: BaseLayer) -> Path:
    return env / "lib" / f"python{base.python_minor}" / "site-packages"


def place(name: str) -> str:
    """Where a pulled file goes under an environment's root: its relative path, or for an
    absolute one its last part."""
    path = Path(name)
    return path.name if path.is_absolute() else path.as_posix()


def _copy(pulled: list[PulledFile], root: Path) -> None:
    for f in pulled:
        target = root / place(f.name)
        if f.path.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f.path, target)
        elif f.path.is_dir():
            for file in files_under(f.path, f.python_only):
                dest = target / file.relative_to(f.path)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, dest)
        else:
            raise FileNotFoundError(f"{f.name}: no such file or folder ({f.path})")


def install_command(spec: ImageSpec, python: Path, constraints: Path,
                    requirements: Path | None) -> list[str]:
    """`uv pip install` of the spec's packages into the environment of `python`."""
    command = [uv_bin(), "pip", "install", "--python", str(python), "--constraint", str(constraints)]
    if spec.pip_index:
        command += ["--index-url", spec.pip_index]
    for url in spec.pip_extra_index_url or ():
        command += ["--extra-index-url", url]
    if spec.pip_extra_args:
        command += shlex.split(spec.pip_extra_args)
    command += list(spec.packages or ())
    if requirements is not None:
        command += ["--requirement", str(requirements)]
    return command


def _build(spec: ImageSpec, key: str, envs: Path, root: str | os.PathLike[str] | None,
           base: BaseLayer, timeout_s: float | None) -> None:
    work = envs / f".building-{key}-{os.getpid()}-{os.urandom(4).hex()}"
    log_path = envs / f"{key}.log"
    failed_log = envs / f"{key}.failed.log"
    name = spec.image_name(root)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    log = os.fdopen(open_file_private(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "w")
    try:
        with log:
            log.write(f"# {name}: environment {key}\n")
            env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
            for variable in ("PYTHONHOME", "VIRTUAL_ENV"):
                env.pop(variable, None)

            def run(step: str, command: list[str], cwd: Path) -> None:
                log.write("$ " + shlex.join(command) + "\n")
                log.flush()
                left = None if deadline is None else max(deadline - time.monotonic(), 1.0)
                try:
                    done = subprocess.run(command, cwd=cwd, env=env, stdout=log,
                                          stderr=subprocess.STDOUT, timeout=left, check=False)
                except subprocess.TimeoutExpired:
                    log.write(f"\nstopped: the build took longer than {timeout_s:g} s\n")
                    raise _Failed(f"`{step}` took longer than {timeout_s:g} s") from None
                if done.returncode != 0:
                    raise _Failed(f"`{step}` exited with {done.returncode}")

            try:
                run("uv venv", [uv_bin(), "venv", "--relocatable", "--no-config", "--python",
                                base.executable, str(work)], envs)
                try:
                    _copy(spec.pulled_files(root), work / WORKDIR)
                except OSError as exc:
                    log.write(f"{exc}\n")
                    raise _Failed(f"cannot copy the files the spec names: {exc}") from None
                (work / WORKDIR).mkdir(exist_ok=True)
                site_packages = _site_packages(work, base)
                importable = (_importable(spec, work / WORKDIR, site_packages),)
                (site_packages / PTH).write_text(base.pth(importable, name))
                constraints = work / "plait-runtime.txt"
                constraints.write_text(base.pins())
                if spec.packages or spec.requirements:
                    requirements = (work / WORKDIR / place(spec.requirements)
                                    if spec.requirements else None)
                    cwd = Path(root) if root is not None else Path.cwd()
                    run("uv pip install", install_command(spec, work / "bin" / "python",
                                                          constraints, requirements), cwd)
                (work / MARKER).write_text(json.dumps({
                    "key": key, "image_name": name, "spec": spec.to_spec(),
                    "base": base.identity(), "built": time.time(),
                }, indent=1, default=str))
            except _Failed as failure:
                log.write(f"\nbuild failed: {failure}\n")
                raise
        os.replace(log_path, work / BUILD_LOG)
        os.rename(work, envs / key)
        with contextlib.suppress(FileNotFoundError):
            failed_log.unlink()
    except _Failed as failure:
        os.replace(log_path, failed_log)
        shutil.rmtree(work, ignore_errors=True)
        tail = _tail(failed_log)
        said = "\n".join(line for line in tail.splitlines() if not line.startswith("$ "))
        pinned = [f"{n}=={v}" for n, v in base.runtime if f"{n}=={v}" in said]
        hint = (f"; plait's worker runtime needs {', '.join(pinned)} (the server's versions): "
                "match them or drop your pins" if pinned else "")
        raise EnvironmentBuildError(
            f"building the environment of ImageSpec(name={spec.name!r}) ({name}) failed: "
            f"{failure}{hint}; fix the spec and try again (log: {failed_log}). The builder's "
            f"last lines:\n{tail}",
            image=name, log=failed_log, tail=tail,
        ) from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.replace(log_path, failed_log)
        raise


class _Failed(Exception):
    """A step of the build failed; its output is in the log."""


def _importable(spec: ImageSpec, workdir: Path, site_packages: Path) -> str:
    """The folder of the spec's source code (`source_root`, or the root), relative to the
    site-packages folder so that the environment can move (`.pth` paths are relative to it)."""
    source = workdir / place(spec.source_root) if spec.source_root else workdir
    return os.path.relpath(source, site_packages)


def _tail(log: Path, lines: int = TAIL_LINES) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])

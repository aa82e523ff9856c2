"""The secret store's key and cipher, what a secret may be called, and what an attempt is given.

Values are encrypted at rest with Fernet (`cryptography`: AES-128-CBC with an
HMAC-SHA256, a fresh IV per value). The key is `PLAIT_SECRETS_KEY` when set
(one Fernet key, or several separated by commas: the first encrypts, every one
decrypts, which is how a key is rotated), else `$PLAIT_HOME/secrets.key`,
made (0600) at the server's first start and read from then on.

A secret is named by the `Secret` a task requests: its key (`API_KEY`, Union's
way) or group and key (`db/password`, Flyte's way), scoped to a project and
either one domain or every domain of the project. The executor resolves the
requests of each attempt it sends (`task_secrets`): the payload carries the
values to the worker (over the cluster's TLS) in a `Sealed` box, whose repr
names the secrets and never shows a value.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plait.errors import PlatformError
from plait.model import home as layout

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet
    from plait.model.specs import TaskSpec

    from .store import Database

KEY_ENV = "PLAIT_SECRETS_KEY"
ENV_PREFIX = "_FSEC_"  # Flyte's default name of a secret's variable: _FSEC_<GROUP>_<KEY>
FILES_ENV = "FLYTE_SECRETS_DEFAULT_DIR"  # where Flyte's code looks for secrets mounted as files
MAX_NAME = 255
MAX_VALUE = 64 * 1024  # characters; a process environment shares ~2 MiB with the command line
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
NAME_RULE = (
    "a key (`API_KEY`) or a group and a key (`db/password`), each made of letters, digits, "
    "`_`, `-` and `.`, starting with a letter, a digit or `_`, at most "
    f"{MAX_NAME} characters in all"
)


class SecretKeyError(PlatformError):
    """The store's key is missing, unreadable or not the one a value was encrypted with."""


# ------------------------------------------------------------------ names


def secret_name(group: str | None, key: str | None) -> str:
    """The stored name of what `Secret(group, key)` requests: `key`, `group/key` or `group`."""
    return "/".join(p for p in (group, key) if p)


def name_problem(name: Any) -> str | None:
    """Why `name` cannot name a secret (it becomes a file name and, upper-cased, part of an
    environment variable's), or None when it can."""
    if not isinstance(name, str) or not name:
        return f"a secret is named by {NAME_RULE}; found {name!r}"
    parts = name.split("/")
    if len(name) > MAX_NAME or len(parts) > 2 or not all(_SEGMENT.match(p) for p in parts):
        shown = repr(name) if len(name) <= 80 else repr(name[:77]) + "..."
        return f"secret name {shown} is not valid: use {NAME_RULE}"
    return None


def value_problem(value: str) -> str | None:
    """Why `value` cannot be a secret's value, without showing any of it; None when it can."""
    if not value:
        return "the value is empty; a secret needs a value"
    if len(value) > MAX_VALUE:
        return (f"the value has {len(value)} characters, more than the {MAX_VALUE} a secret may hold "
                "(it must fit in an environment variable); keep large credentials in a file of the "
                "object store and store its location and a short key here")
    if "\x00" in value:
        return "the value holds a NUL character, which an environment variable cannot hold"
    return None


def scope_text(project: str, domain: str | None) -> str:
    """`project p / domain d`, or `project p (every domain)`."""
    return f"project {project} / domain {domain}" if domain else f"project {project} (every domain)"


def create_hint(name: str, project: str, domain: str | None) -> str:
    """The command that creates the secret `name` where a task of `project`/`domain` finds it."""
    where = f" --project {project}" + (f" --domain {domain}" if domain else "")
    return f"plait create secret {name}{where}"


def env_name(group: str | None, key: str | None) -> str:
    """Flyte's default variable for a secret: `_FSEC_<GROUP>_<KEY>`, upper-cased, `-` and `.`
    as `_` (what `plait.current_context().secrets` reads)."""
    joined = "_".join(p for p in (group, key) if p)
    return ENV_PREFIX + joined.upper().replace("-", "_").replace(".", "_")


def flyte_env_name(group: str | None, key: str | None) -> str:
    """The variable Flyte itself puts a secret in: `_FSEC_<GROUP>_<KEY>`, only upper-cased
    (what `SecretsManager.get_secrets_env_var` names)."""
    return ENV_PREFIX + "_".join(p.upper() for p in (group, key) if p)


# ------------------------------------------------------------------ the key

_lock = threading.Lock()
_keyrings: dict[tuple[str, str], MultiFernet] = {}
_home: list[Path] = []  # the home `use_home` set for this process (the server's)


def use_home(home: str | os.PathLike[str]) -> None:
    """This process is the server of `home`: its key is read (made, at the first start) now,
    and the executor's `task_secrets` use it."""
    _home[:] = [Path(home)]
    keyring(home)


def _default_home() -> Path:
    return _home[0] if _home else layout.plait_home()


def key_source(home: str | os.PathLike[str] | None = None) -> str:
    """Where the key comes from, for messages."""
    if os.environ.get(KEY_ENV):
        return KEY_ENV
    return str(Path(home if home is not None else _default_home()) / layout.SECRETS_KEY)


def keyring(home: str | os.PathLike[str] | None = None) -> MultiFernet:
    """The cipher of `home`'s store (default: this process's server's, else $PLAIT_HOME)."""
    from cryptography.fernet import Fernet, MultiFernet

    raw = os.environ.get(KEY_ENV, "").strip()
    where = Path(home if home is not None else _default_home())
    cache_key = (str(where), raw)
    found = _keyrings.get(cache_key)
    if found is not None:
        return found
    with _lock:
        if raw:
            texts = [k.strip() for k in raw.split(",") if k.strip()]
            source = KEY_ENV
        else:
            texts = [ensure_key_file(where).read_text().strip()]
            source = str(where / layout.SECRETS_KEY)
        keys = []
        for i, text in enumerate(texts):
            try:
                keys.append(Fernet(text.encode()))
            except (ValueError, TypeError):
                which = f"key {i + 1} of {source}" if len(texts) > 1 else source
                raise SecretKeyError(
                    f"{which} is not a Fernet key (32 bytes in url-safe base64, 44 characters); make "
                    "one with `python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'`"
                ) from None
        found = _keyrings[cache_key] = MultiFernet(keys)
        return found


def ensure_key_file(home: str | os.PathLike[str]) -> Path:
    """`<home>/secrets.key`, made (0600, a new Fernet key) if there is none; made once even when
    processes race (the first link wins, the others read it)."""
    from cryptography.fernet import Fernet

    path = Path(home) / layout.SECRETS_KEY
    if not path.exists():
        layout.ensure_private(home)
        fd, tmp = tempfile.mkstemp(prefix=".secrets-key-", dir=home)  # 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key() + b"\n")
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # atomic: never a half-written key, never two keys
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, layout.PRIVATE_FILE)
    except OSError as exc:
        raise SecretKeyError(f"cannot read the secret store's key {path}: {exc.strerror}") from None
    return path


def encrypt(value: str, home: str | os.PathLike[str] | None = None) -> str:
    """`value` encrypted with the store's key, as text for the database."""
    return keyring(home).encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str, name: str, scope: str, home: str | os.PathLike[str] | None = None) -> str:
    """The value of secret `name` (of `scope`) from its stored token; SecretKeyError if this key
    did not encrypt it."""
    from cryptography.fernet import InvalidToken

    try:
        return keyring(home).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError, UnicodeError):
        raise SecretKeyError(
            f"secret {name} of {scope} cannot be decrypted with the store's key ({key_source(home)}): "
            f"the key changed since the secret was stored; put the old key back (PLAIT_SECRETS_KEY "
            f"may list it after the new one) or create the secret again"
        ) from None


# ------------------------------------------------------------------ what an attempt is given


@dataclass(frozen=True)
class Grant:
    """One requested secret with its value: how the worker hands it to the task."""

    name: str
    group: str | None
    key: str | None
    mount: str  # ANY, ENV_VAR or FILE
    env_var: str | None
    value: str

    def __repr__(self) -> str:
        return f"Grant({self.name!r}, mount={self.mount}, value='****')"


class Sealed:
    """The secrets of one attempt as they travel in its payload: a repr (in Dask's logs of a
    failed call, say) names them and shows no value."""

    def __init__(self, grants: Iterable[Grant]) -> None:
        self.grants = tuple(grants)

    def __repr__(self) -> str:
        return f"<{len(self.grants)} secrets: {', '.join(g.name for g in self.grants)}>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.grants == self.grants

    __hash__ = None  # type: ignore[assignment]


def requests_of(spec: TaskSpec) -> list[Mapping[str, Any]]:
    """The `secret_requests` of a task spec, as the SDK writes them."""
    found = spec.settings.get("secret_requests") or []
    return [r for r in found if isinstance(r, Mapping)]


def missing_message(task: str, name: str, project: str, domain: str) -> str:
    """What a launch (422) or an attempt (a USER error) says of a secret the store lacks."""
    return (f"task {task} requests secret {name}, which {scope_text(project, domain)} does not "
            f"have; create it with `{create_hint(name, project, domain)}` (or without --domain "
            "for every domain of the project)")


def invalid_message(task: str, name: str) -> str:
    return f"task {task} requests a secret the store cannot hold: {name_problem(name)}; rename it in its Secret(...)"


def task_secrets(db: Database, project: str, domain: str, spec: TaskSpec,
                 home: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """What an attempt's payload carries for the secrets its task requests: `{"secrets":
    Sealed}`, or `{"secret_error": message}` naming the first one the store lacks (the worker
    fails the attempt with it as a USER error). Read from the store at every attempt, so a
    secret created or changed meanwhile is what a retry gets."""
    from .store import queries

    requests = requests_of(spec)
    names = [secret_name(r.get("group"), r.get("key")) for r in requests]
    for name in names:
        if name_problem(name):
            return {"secret_error": invalid_message(spec.name, name)}
    with db.session(readonly=True) as s:
        tokens = queries.secret_tokens(s, project, domain, names)
    grants = []
    for request, name in zip(requests, names, strict=True):
        found = tokens.get(name)
        if found is None:
            return {"secret_error": missing_message(spec.name, name, project, domain)}
        token, scope = found
        try:
            value = decrypt(token, name, scope_text(project, scope), home)
        except SecretKeyError as exc:
            return {"secret_error": f"task {spec.name}: {exc}"}
        grants.append(Grant(name, request.get("group"), request.get("key"),
                            str(request.get("mount_requirement") or "ANY"), request.get("env_var"), value))
    return {"secrets": Sealed(grants)}

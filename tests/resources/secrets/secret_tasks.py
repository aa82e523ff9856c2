"""Tasks that use the backend's secret store, as a user writes them (Flyte's and Union's ways)."""

from __future__ import annotations

import base64
import os

import plait
from plait import Secret, current_context

PASSWORD = Secret(group="db", key="password", env_var="DB_PASSWORD")  # mounted both ways (ANY)
API_KEY = Secret(key="API_KEY", mount_requirement=Secret.MountType.FILE)  # a file only
MISSING = Secret(group="db", key="missing")


@plait.task(secret_requests=[PASSWORD, API_KEY])
def reads_secrets() -> dict[str, str]:
    """Reads its secrets every way a task can, and prints them (which a task should not)."""
    secrets = current_context().secrets
    password = secrets.get("db", "password")
    path = secrets.get_secrets_file(None, "API_KEY")
    with open(path) as handle:
        api_key = handle.read()
    print(f"the password is {password}")
    print("base64:", base64.b64encode(password.encode()).decode())
    print(f"the api key is {api_key}", flush=True)
    return {
        "same": str(password == os.environ["DB_PASSWORD"] == os.environ["_FSEC_DB_PASSWORD"]),
        "api_key_variable": os.environ.get("_FSEC_API_KEY", "<unset>"),
        "file_mode": oct(os.stat(path).st_mode & 0o777),
        "folder": os.environ["FLYTE_SECRETS_DEFAULT_DIR"],
        "api_key_length": str(len(api_key)),
    }


@plait.task
def peeks() -> dict[str, str]:
    """Requests nothing: looks for secrets anyway."""
    seen = sorted(n for n in os.environ if n.startswith(("_FSEC_", "PLAIT_SECRET_"))
                  or n in ("DB_PASSWORD", "FLYTE_SECRETS_DEFAULT_DIR"))
    try:
        got = current_context().secrets.get("db", "password")
    except plait.UserError as exc:
        got = str(exc)
    return {"variables": ",".join(seen), "get": got}


@plait.task(secret_requests=[PASSWORD])
def fails_with_secret() -> int:
    password = current_context().secrets.get("db", "password")
    raise ValueError(f"the database refused the password {password!r}")


@plait.task(secret_requests=[MISSING])
def needs_missing() -> int:
    return len(current_context().secrets.get("db", "missing"))


@plait.workflow
def wf_missing() -> int:
    return needs_missing()


@plait.dynamic
def dyn_missing(n: int) -> int:
    return needs_missing()


@plait.task(secret_requests=[PASSWORD])
def item_sees(i: int) -> int:
    password = current_context().secrets.get("db", "password")
    print(f"item {i} logs in with {password}")
    return len(password) + i


@plait.workflow
def map_sees(xs: list[int]) -> list[int]:
    return plait.map(item_sees)(i=xs)

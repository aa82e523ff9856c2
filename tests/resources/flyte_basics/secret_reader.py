"""Tasks that read a grouped secret the ways Flyte programs do: by name, as a file, by attribute."""

import os
from pathlib import Path

import plait
from plait import Secret, task, workflow

GROUP = "user-info"
KEY = "user_secret"


@task(secret_requests=[Secret(group=GROUP, key=KEY, mount_requirement=Secret.MountType.ENV_VAR)])
def read_by_name() -> str:
    return plait.current_context().secrets.get(GROUP, KEY)


@task(secret_requests=[Secret(group=GROUP, key=KEY, mount_requirement=Secret.MountType.FILE)])
def where_the_file_is() -> str:
    return plait.current_context().secrets.get_secrets_file(GROUP, KEY)


@task(secret_requests=[Secret(group="billing", key="token")])
def read_by_attribute() -> str:
    return plait.current_context().secrets.billing.token


@workflow
def secret_report() -> tuple[str, str]:
    return read_by_name(), where_the_file_is()


@task(secret_requests=[Secret(group=GROUP, key=KEY)])
def flyte_variable() -> str:
    """The value from the variable Flyte names, read without plait's help."""
    name = plait.current_context().secrets.get_secrets_env_var(GROUP, KEY)
    return os.environ.get(name, f"<{name} unset>")


@task(secret_requests=[Secret(group=GROUP, key=KEY, mount_requirement=Secret.MountType.FILE)])
def file_contents() -> str:
    return Path(plait.current_context().secrets.get_secrets_file(GROUP, KEY)).read_text()

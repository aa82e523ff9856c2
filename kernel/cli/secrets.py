"""`plait create secret`, `plait get secrets`, `plait delete secret`: the backend's secret store.

A value is never an argument (it would stay in the shell's history and in `ps`):
it is typed at a hidden prompt, piped on stdin (`--from-file -` says so
explicitly) or read from a file with `--from-file PATH`. Nothing prints it.
The `create` and `delete` groups live here; other kinds of objects add their
commands to them.
"""

from __future__ import annotations

import sys

import click

from ..errors import PlaitError, UserError
from .backend import PROJECT_OPTION, UTC_OPTION, _times, remote_for
from .output import CONTEXT, fail, table

DOMAINS = click.Choice(["development", "staging", "production"])
SCOPE_DOMAIN = click.option("--domain", default=None, type=DOMAINS,
                            help="The one domain whose tasks read it (default: every domain of the project).")


@click.group("create", context_settings=CONTEXT)
def create_cmd() -> None:
    """Create objects on the backend: secrets, workspaces."""


@click.group("delete", context_settings=CONTEXT)
def delete_cmd() -> None:
    """Delete objects on the backend: secrets."""


def _scope(project: str, domain: str | None) -> str:
    return f"project {project}, domain {domain}" if domain else f"project {project} (every domain)"


def _interactive() -> bool:
    """Is stdin a terminal (a person to prompt), rather than a pipe or a file?"""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{where} is not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x}); a secret is text: "
            "store binary data base64-encoded (`base64 -w0 FILE | plait create secret NAME`) and "
            "decode it in the task"
        ) from None


def _read_stdin() -> str:
    """What was piped in, less one final newline (the one `echo` adds)."""
    stream = getattr(sys.stdin, "buffer", None)
    data = stream.read() if stream is not None else sys.stdin.read().encode("utf-8")
    text = _decode(data, "the value piped on stdin")
    return text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text


def read_value(from_file: str | None) -> str:
    """The value from `--from-file` (a path as is, `-` for stdin), a pipe, or a hidden prompt."""
    if from_file == "-":
        value = _read_stdin()
    elif from_file is not None:
        try:
            with open(from_file, "rb") as handle:
                value = _decode(handle.read(), f"--from-file {from_file}")
        except OSError as exc:
            raise UserError(f"--from-file {from_file}: cannot read it ({exc.strerror}); give a file "
                            "you can read, or `-` for stdin") from None
    elif _interactive():
        value = click.prompt("Enter secret value", hide_input=True, prompt_suffix=": ")
    else:
        value = _read_stdin()
    if not value:
        raise UserError("the secret's value is empty; type it at the prompt, pipe it on stdin, "
                        "or give a file with --from-file")
    return value


@create_cmd.command("secret", context_settings=CONTEXT)
@click.argument("name", required=False)
@click.option("--name", "name_option", default=None, metavar="NAME", help="The secret's name (or give it as NAME).")
@PROJECT_OPTION
@SCOPE_DOMAIN
@click.option("-f", "--from-file", "--value-file", "from_file", default=None, metavar="PATH",
              help="Read the value from this file, as is; `-` reads stdin.")
@click.option("--overwrite", is_flag=True, help="Replace the value of an existing secret.")
@click.pass_context
def create_secret(ctx: click.Context, name: str | None, name_option: str | None, project: str,
                  domain: str | None, from_file: str | None, overwrite: bool) -> None:
    """Store secret NAME on the backend, encrypted, for the tasks that request it.

    \b
    NAME is what a task's Secret names: its key (API_KEY) or group/key (db/password):
      @task(secret_requests=[Secret(group="db", key="password")])  ->  db/password
    The value is asked for (hidden), piped on stdin, or read with --from-file:
      plait create secret db/password --project flytesnacks --domain development
      printf %s "$TOKEN" | plait create secret API_KEY
      plait create secret ssh_key --from-file ~/.ssh/id_ed25519
    """
    if name and name_option and name != name_option:
        raise click.UsageError(f"two names given: {name!r} and --name {name_option!r}; give one")
    chosen = name or name_option
    if not chosen:
        raise click.UsageError("give the secret's name: plait create secret NAME")
    try:
        value = read_value(from_file)
        record = remote_for(ctx, project, domain or "development").create_secret(
            chosen, value, project=project, domain=domain, overwrite=overwrite)
    except PlaitError as exc:
        fail(exc, verbose=False)
    verb = "updated" if overwrite and record.get("created_at") != record.get("updated_at") else "created"
    click.echo(f"{verb} secret {chosen} in {_scope(project, domain)}")


@delete_cmd.command("secret", context_settings=CONTEXT)
@click.argument("name")
@PROJECT_OPTION
@click.option("--domain", default=None, type=DOMAINS,
              help="Delete the secret of this domain (default: the one of every domain).")
@click.pass_context
def delete_secret(ctx: click.Context, name: str, project: str, domain: str | None) -> None:
    """Delete secret NAME of the project (for one domain with --domain)."""
    try:
        remote_for(ctx, project, domain or "development").delete_secret(name, project=project, domain=domain)
    except PlaitError as exc:
        fail(exc, verbose=False)
    click.echo(f"deleted secret {name} of {_scope(project, domain)}")


@click.command("secrets", context_settings=CONTEXT)
@PROJECT_OPTION
@click.option("--domain", default=None, type=DOMAINS,
              help="Only the secrets this domain's tasks read (default: all of the project).")
@UTC_OPTION
@click.pass_context
def get_secrets(ctx: click.Context, project: str, domain: str | None, utc: bool) -> None:
    """List the project's secrets: names, domains and dates (never values)."""
    try:
        found = remote_for(ctx, project, domain or "development").list_secrets(project=project, domain=domain)
    except PlaitError as exc:
        fail(exc, verbose=False)
    title = f"Secrets of project {project}" + (f" that domain {domain} reads" if domain else "")
    created, made = _times("CREATED", [s.get("created_at") for s in found], utc)
    updated, changed = _times("UPDATED", [s.get("updated_at") for s in found], utc)
    table(title, ["NAME", "DOMAIN", created, updated],
          [[s.get("name"), s.get("domain") or "(every domain)", m, c]
           for s, m, c in zip(found, made, changed, strict=True)])

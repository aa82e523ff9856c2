"""`plait build FILE ENTITY` / `plait build --image image.yaml`: build environments, register nothing.

Each image that ENTITY's tasks name (their `container_image`, and workflow
nodes' `with_overrides(container_image=...)`) is built by the chosen builder:
`venv` (the default) makes `$PLAIT_HOME/envs/<hash>` with uv, `docker` (or
podman) builds an OCI image; `--dry-run` shows what would be built (for
docker, the generated Dockerfile). One line per image on stdout: where it is,
whether it was built or reused, and who uses it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import click

from ..config.image_spec import ImageSpec
from ..errors import PlaitError, UserError
from .output import CONTEXT, fail


def load_image(value: str) -> ImageSpec | str:
    """`--image`: an ImageSpec YAML file (`*.yaml`, `*.yml`), or else an image name."""
    if not value.endswith((".yaml", ".yml")):
        return value
    path = Path(value)
    if not path.is_file():
        raise click.BadParameter(f"no such file: {value}; give an ImageSpec YAML file or an "
                                 "image name", param_hint="--image")
    import yaml

    try:
        fields = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise click.BadParameter(f"{value} is not valid YAML: {exc}", param_hint="--image") from None
    if not isinstance(fields, dict):
        raise click.BadParameter(
            f"{value} should map ImageSpec fields to values (packages: [...], env: {{...}}), "
            f"found {type(fields).__name__}", param_hint="--image")
    try:
        return ImageSpec.from_spec(fields)
    except UserError as exc:
        raise click.BadParameter(f"{value}: {exc}", param_hint="--image") from None


def with_image(registration: Any, image: ImageSpec | str) -> Any:
    """A registration (`plait.remote.bundle.collect`) whose tasks run in `image`, under a
    version of its own (the same code in another image is another version)."""
    from ..environments import override_images

    name = image if isinstance(image, str) else image.image_name()
    version = hashlib.sha256(f"{registration.version}\0{name}".encode()).hexdigest()[:16]
    return dataclasses.replace(registration, specs=tuple(override_images(registration.specs, image)),
                               version=version)


def _closure(entity: Any) -> list[Any]:
    """`entity` and every entity it uses, each once."""
    from ..sdk.entity import Entity

    seen: dict[int, Any] = {}

    def visit(e: Any) -> None:
        if not isinstance(e, Entity) or id(e) in seen:
            return
        seen[id(e)] = e
        for sub in [*getattr(e, "entities", list)(), *getattr(e, "sub_entities", list)()]:
            visit(sub)
        visit(getattr(e, "on_failure", None))

    visit(entity)
    order = {"task": 0, "dynamic": 0, "workflow": 1, "launch_plan": 2}  # tasks' images first
    return sorted((e for e in seen.values() if e.kind != "branch"), key=lambda e: order.get(e.kind, 3))


def images_of(entity: Any, override: ImageSpec | str | None = None) -> dict[str, tuple[Any, list[str]]]:
    """The images `entity` and what it uses name: key -> (ImageSpec or image name, users)."""
    from ..environments import image_of, images_in, override_images

    found: dict[str, tuple[Any, list[str]]] = {}
    for e in _closure(entity):
        spec = e.to_spec()
        if override is not None:
            spec = override_images([spec], override)[0]
        for path, value in images_in(spec):
            image = image_of(value)
            key = image if isinstance(image, str) else image.image_name()
            user = (f"{e.kind} {e.name}" if path == "settings.container_image"
                    else f"{e.kind} {e.name} {path.rsplit('.overrides', 1)[0]}")
            found.setdefault(key, (image, []))[1].append(user)
    return found


def _build_venv(image: ImageSpec | str, users: str, dry_run: bool) -> None:
    from ..environments import EnvironmentRefused, env_key, envs_dir, find, refusals, resolve

    problems = refusals(image)
    if problems or isinstance(image, str):  # an image name is always refused by the venv builder
        raise EnvironmentRefused(problems)
    found = find(image)
    if found is not None:
        click.echo(f"{found.path}  reused  {users}")
        return
    if dry_run:
        click.echo(f"{envs_dir() / env_key(image)}  would be built  {users}")
        return
    click.echo(f"building {image.image_name()} with uv ...", err=True)
    env = resolve(image)
    click.echo(f"{env.path}  {'built' if env.built else 'reused'}  {users}")


def _build_container(image: ImageSpec | str, users: str, builder: str, dry_run: bool) -> None:
    from ..environments import build_image

    if isinstance(image, str):
        click.echo(f"{image}  used as it is (an image name, nothing to build)  {users}")
        return
    if dry_run:
        built = build_image(image, engine=builder, dry_run=True)
        click.echo(f"# {built.name}  would be built by {builder}  {users}")
        click.echo(built.dockerfile, nl=False)
        return
    click.echo(f"building {image.image_name()} with {builder} ...", err=True)
    built = build_image(image, engine=builder)
    click.echo(f"{built.name}  {'built' if built.built else 'reused'}  {users}")


@click.command("build", context_settings=CONTEXT)
@click.argument("file", required=False)
@click.argument("entity", required=False)
@click.option("--image", "image_option", default=None, metavar="IMAGE.yaml|NAME",
              help="An ImageSpec YAML file (or image name): build it, or with FILE ENTITY use it "
                   "for every task instead of theirs.")
@click.option("--builder", type=click.Choice(["venv", "docker", "podman"]), default=None,
              help="venv: $PLAIT_HOME/envs with uv (default, or $PLAIT_BUILDER); docker or "
                   "podman: an OCI image.")
@click.option("--dry-run", is_flag=True, help="Show what would be built (docker: the Dockerfile).")
@click.option("--verbose", is_flag=True, help="Show full tracebacks on failure.")
def build_cmd(file: str | None, entity: str | None, image_option: str | None, builder: str | None,
              dry_run: bool, verbose: bool) -> None:
    """Build the environments of ENTITY's tasks in FILE, or of --image, without registering.

    \b
    plait build pipeline.py training_wf
    plait build --image image.yaml
    plait build --builder docker --dry-run pipeline.py training_wf
    """
    from ..environments import configured_builder

    override = load_image(image_option) if image_option else None
    if file is None and override is None:
        raise click.UsageError("give FILE ENTITY (the tasks' images) or --image IMAGE.yaml")
    if file is not None and entity is None:
        from .run import entities_of, load_module

        names = ", ".join(sorted(entities_of(load_module(file)))) or "none"
        raise click.UsageError(f"name the ENTITY whose images to build after FILE; {file} "
                               f"defines: {names}")
    try:
        builder = builder or configured_builder()
        if file is not None:
            from .run import find_entity, load_module

            target = find_entity(load_module(file), str(entity), file)
            images = images_of(target, override)
            if not images:
                click.echo(f"no task of `{entity}` names a container_image: they run in the "
                           "default environment; nothing to build", err=True)
                return
        else:
            images = {"--image": (override, ["--image"])}
        for image, users in images.values():
            who = f"({', '.join(users)})"
            if builder == "venv":
                _build_venv(image, who, dry_run)
            else:
                _build_container(image, who, builder, dry_run)
    except PlaitError as exc:
        fail(exc, verbose)

"""flytekit's module paths (the ones the reference's programs import) name plait's own objects."""

from __future__ import annotations

import importlib

import plait
import pytest

PATHS = {  # flytekit path (under plait) -> names it must hold, each plait's own object
    "core.artifact": {"Inputs": plait.Inputs, "Granularity": plait.Granularity, "Artifact": plait.Artifact},
    "core.schedule": {"CronSchedule": plait.CronSchedule, "FixedRate": plait.FixedRate},
    "core.launch_plan": {"LaunchPlan": plait.LaunchPlan},
    "core.workflow": {"WorkflowFailurePolicy": plait.WorkflowFailurePolicy, "workflow": plait.workflow},
    "core.node_creation": {"create_node": plait.create_node},
    "exceptions.user": {"FlyteRecoverableException": plait.FlyteRecoverableException},
    "extras.accelerators": {"A100": plait.A100, "L4": plait.L4, "T4": plait.T4},
    "extras.tasks.shell": {"ShellTask": plait.ShellTask},
    "models.common": {"Labels": plait.Labels, "Annotations": plait.Annotations, "AuthRole": plait.AuthRole,
                      "RawOutputDataConfig": plait.RawOutputDataConfig},
    "remote": {"UnionRemote": plait.UnionRemote, "FlyteRemote": plait.FlyteRemote},
}


@pytest.mark.parametrize("path", list(PATHS))
def test_a_flytekit_path_imports_plaits_own_names(path: str) -> None:
    module = importlib.import_module(f"plait.{path}")
    for name, obj in PATHS[path].items():
        assert getattr(module, name) is obj, f"plait.{path}.{name}"


def test_the_type_engine_path_and_the_shell_output_location() -> None:
    from plait.core.type_engine import TypeEngine, TypeTransformer
    from plait.extend import TypeEngine as Extended
    from plait.extras.tasks.shell import OutputLocation

    assert TypeEngine is Extended and issubclass(TypeTransformer, object) and OutputLocation is not None


def test_union_remote_takes_unions_arguments() -> None:
    from plait.configuration import Config

    remote = plait.UnionRemote(config=Config.for_endpoint("127.0.0.1:8765"), default_project="flows",
                               default_domain="staging", autostart=False)
    assert isinstance(remote, plait.Remote)
    assert (remote.project, remote.domain) == ("flows", "staging")
    assert remote._explicit[0] == "http://127.0.0.1:8765"
    found = plait.UnionRemote(config=Config.auto(), autostart=False)
    assert (found.project, found.domain, found._explicit[0]) == ("default", "development", None)

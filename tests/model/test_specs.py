"""Every example program's entities have specs that parse into plait.model and back."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import plait
import pytest
from plait.model import LaunchPlanSpec, SpecError, TaskSpec, WorkflowSpec, parse_spec, spec_of
from plait.sdk.entity import Entity

RESOURCES = Path(__file__).parents[1] / "resources"
PROGRAMS = sorted(
    str(p.relative_to(RESOURCES))
    for p in RESOURCES.rglob("*.py")
    if not p.name.startswith("bad_") and p.name != "dynamic_first.py"
)


@pytest.mark.parametrize("program", PROGRAMS)
def test_specs_round_trip_through_the_model(program: str, resource) -> None:
    module = resource(program)
    entities = [v for v in vars(module).values() if isinstance(v, Entity)]
    for entity in entities:
        wire = json.loads(json.dumps(entity.to_spec()))  # specs are plain JSON
        typed = spec_of(entity)
        assert typed.to_dict() == wire, entity.name
        assert typed.version == wire["version"]


def test_versions_are_content_hashes() -> None:
    @plait.task
    def double(x: int) -> int:
        return 2 * x

    first = spec_of(double)
    assert isinstance(first, TaskSpec) and len(first.version) == 16

    @plait.task  # same name, different body
    def double(x: int) -> int:  # noqa: F811
        return x + x

    assert spec_of(double).version != first.version


def test_workflow_spec_lists_nodes_bindings_and_outputs() -> None:
    @plait.task
    def add(a: int, b: int) -> int:
        return a + b

    @plait.workflow
    def total(a: int, b: int = 2) -> int:
        return add(a=add(a=a, b=b), b=10)

    spec = spec_of(total)
    assert isinstance(spec, WorkflowSpec)
    assert [n.id for n in spec.nodes] == ["n0", "n1"]
    assert spec.nodes[1].inputs == {"a": {"ref": {"node": "n0", "output": "o0"}}, "b": {"literal": 10}}
    assert spec.nodes[1].upstream == ("n0",)
    assert spec.outputs == {"o0": {"ref": {"node": "n1", "output": "o0"}}}
    assert spec.interface.input("b").default == 2
    lp = spec_of(plait.LaunchPlan.get_or_create(total, name="total_lp", fixed_inputs={"b": 5}))
    assert isinstance(lp, LaunchPlanSpec) and lp.fixed_inputs == {"b": 5} and lp.workflow == total.name


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a spec must be a JSON object"),
        ({"kind": "gadget"}, "unknown spec kind 'gadget'"),
        ({"kind": "task", "name": "t"}, "task `t`: missing field `version`"),
        ({"kind": "workflow", "name": "w", "version": "1", "interface": {"inputs": {}, "outputs": {}},
          "nodes": [{"id": "n0", "kind": "task", "entity": "t", "inputs": {}, "upstream": ["n9"]}],
          "outputs": {}}, r"node `n0` depends on unknown node\(s\) \['n9'\]"),
    ],
)
def test_malformed_specs_are_refused_with_the_field_named(data: object, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_spec(data)  # type: ignore[arg-type]


def test_a_run_leaves_nothing_in_the_temporary_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR

    @plait.task
    def scratch(n: int) -> int:
        workdir = plait.current_context().working_directory
        with open(os.path.join(workdir, "notes.txt"), "w") as fh:
            fh.write("x" * n)
        return os.path.getsize(os.path.join(workdir, "notes.txt"))

    @plait.workflow
    def several(ns: list[int]) -> list[int]:
        return plait.map(scratch)(n=ns)

    try:
        assert several(ns=[3, 4, 5]) == [3, 4, 5]
        assert list(tmp_path.iterdir()) == []
    finally:
        monkeypatch.setattr(tempfile, "tempdir", None)


def test_every_error_plait_raises_has_one_root() -> None:
    """`except plait.PlaitError` catches a bad spec and a value of the wrong type too."""
    import plait
    from plait.typesys import ValueTypeError, checker

    with pytest.raises(plait.UserError, match="unknown spec kind 'gate'"):
        parse_spec({"kind": "gate", "name": "g"})
    with pytest.raises(plait.UserError, match="expected int, got str") as caught:
        checker(int)("seven")
    assert isinstance(caught.value, ValueTypeError) and isinstance(caught.value, TypeError)
    assert issubclass(SpecError, ValueError) and issubclass(SpecError, plait.PlaitError)

"""An execution's environment variables reach the child executions of its launch plans."""

import os

import plait as union


@union.task
def read_variable(name: str) -> str:
    return os.environ.get(name, "<unset>")


@union.workflow
def read_in_workflow(name: str) -> str:
    return read_variable(name=name)


read_lp = union.LaunchPlan.get_or_create(read_in_workflow, name="read_variable_lp")


@union.workflow
def read_in_child(name: str) -> str:
    return read_lp(name=name)


@union.workflow
def read_in_mapped_children(names: list[str]) -> list[str]:
    return union.map(read_lp)(name=names)

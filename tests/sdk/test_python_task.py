"""Task classes (`plait.extend.PythonTask`): a subclass with `execute(**kwargs)` is a task.

The program is tests/resources/flyte_sdk/task_classes.py.
"""

from __future__ import annotations

import plait
import pytest
from plait.extend import Interface, PythonTask


def test_an_instance_runs_its_execute_method_with_its_config(resource) -> None:
    prog = resource("flyte_sdk/task_classes.py")
    assert prog.hello(who="Ada") == "Hello, Ada!"
    assert prog.shout(who="Ada") == "HEY, Ada!!!"


def test_instances_run_in_a_workflow_with_defaults_and_several_outputs(resource) -> None:
    prog = resource("flyte_sdk/task_classes.py")
    assert tuple(prog.greet_and_measure(who="Ada")) == ("Hello, Ada!", 2, 11)
    assert tuple(prog.measure(text="a b", unit=2)) == (4, 6)


def test_the_task_keeps_its_name_type_settings_and_interface(resource) -> None:
    prog = resource("flyte_sdk/task_classes.py")
    spec = prog.measure.to_spec()
    assert spec["name"] == "measure" and spec["task_type"] == "python-task"
    assert prog.hello.to_spec()["task_type"] == "greeter"
    assert prog.measure.settings.retries == 2
    assert prog.shout.settings.environment == {"LOUD": "1"}
    assert list(spec["interface"]["inputs"]) == ["text", "unit"] and spec["interface"]["inputs"]["unit"]["required"] is False
    assert prog.hello.docs["short"] == "Greets whoever it is given, in the style of its config."


def test_an_input_of_the_wrong_type_is_refused_by_name(resource) -> None:
    prog = resource("flyte_sdk/task_classes.py")
    with pytest.raises(plait.TypeMismatchError, match="who"):
        prog.hello(who=3)


def test_a_class_without_execute_says_what_to_define() -> None:
    class Nothing(PythonTask):
        def __init__(self) -> None:
            super().__init__(task_type="nothing", name="nothing", interface=Interface(outputs={"o0": int}))

    with pytest.raises(plait.UserError, match=r"defines no execute\(\*\*kwargs\)"):
        Nothing()()


def test_unknown_settings_are_refused_naming_the_task() -> None:
    class Odd(PythonTask):
        def execute(self, **kwargs):
            return None

    with pytest.raises(plait.UserError, match=r"Odd `odd`: unknown parameter\(s\) \['colour'\]"):
        Odd(task_type="odd", name="odd", colour="blue")

"""Mistakes in workflow programs: each is reported where it was made, says what
was expected, what was found, and what to do instead."""

import plait
import pytest
from plait.errors import (
    CompileError,
    InputError,
    PromiseMisuseError,
    TypeMismatchError,
    UserError,
)
from plait.run.engine import execute


@plait.task
def add_one(count: int) -> int:
    return count + 1


@plait.task
def read_label() -> str:
    return "seven"


# ---------------------------------------------------------------- bindings


def test_binding_type_mismatch_names_task_input_and_both_types(resource):
    with pytest.raises(TypeMismatchError) as info:
        resource("workflows/bad_bindings.py")

    message = str(info.value)
    assert "add_one` expects input `count: int`" in message
    assert "workflow `res_workflows_bad_bindings.label_plus_one` passes `str`" in message
    assert "from output `o0` of `res_workflows_bad_bindings.read_label`" in message
    err = info.value
    assert (err.entity, err.name, err.expected, err.found) == (
        "res_workflows_bad_bindings.add_one", "count", "int", "str",
    )


def test_binding_a_literal_of_the_wrong_type():
    with pytest.raises(TypeMismatchError, match=r"expects input `count: int`, .* passes the value 'seven' of type `str`"):

        @plait.workflow
        def wf() -> int:
            return add_one(count="seven")


def test_missing_input():
    with pytest.raises(CompileError, match=r"add_one` is missing required input\(s\) \['count'\].*add_one\(count=\.\.\.\)"):

        @plait.workflow
        def wf() -> int:
            return add_one()


def test_unknown_input():
    with pytest.raises(CompileError, match=r"add_one` has no input\(s\) \['amount'\].*its inputs are \['count'\]"):

        @plait.workflow
        def wf(n: int) -> int:
            return add_one(amount=n)


def test_positional_arguments_inside_a_workflow():
    with pytest.raises(CompileError, match=r"called with positional arguments.*every input is passed by name, e\.g\. `add_one\(count=\.\.\.\)`"):

        @plait.workflow
        def wf(n: int) -> int:
            return add_one(n)


def test_positional_arguments_are_fine_outside_a_workflow():
    assert add_one(41) == 42


# ------------------------------------------------------------------ annotations


def test_task_input_without_annotation():
    with pytest.raises(CompileError, match=r"input `x` has no type annotation; annotate it, e\.g\. `x: int`"):

        @plait.task
        def untyped(x) -> int:
            return x


def test_workflow_input_without_annotation():
    with pytest.raises(CompileError, match=r"workflow .*input `n` has no type annotation"):

        @plait.workflow
        def wf(n) -> int:
            return add_one(count=n)


def test_task_returning_a_value_without_a_return_annotation():
    @plait.task
    def forgot_annotation(n: int):
        return n

    with pytest.raises(UserError, match=r"returned int but declares no outputs; add a return annotation"):
        forgot_annotation(n=1)


# ---------------------------------------------------------------- output counts


def test_workflow_returning_fewer_outputs_than_declared():
    with pytest.raises(CompileError, match=r"declares 2 outputs \['o0', 'o1'\] but returns one value"):

        @plait.workflow
        def wf(n: int) -> (int, int):
            return add_one(count=n)


def test_workflow_returning_more_outputs_than_declared():
    with pytest.raises(CompileError, match=r"declares 2 outputs \['o0', 'o1'\] but returns 3"):

        @plait.workflow
        def wf(n: int) -> (int, int):
            a = add_one(count=n)
            return a, a, a


def test_workflow_returning_nothing_for_a_declared_output():
    with pytest.raises(CompileError, match=r"declares the output `o0: int` but returns nothing"):

        @plait.workflow
        def wf(n: int) -> int:
            add_one(count=n)


def test_task_returning_fewer_outputs_than_declared():
    @plait.task
    def pair(n: int) -> tuple[int, int]:
        return n

    with pytest.raises(UserError, match=r"declares 2 outputs \['o0', 'o1'\] but returned one int"):
        pair(n=1)


def test_reading_a_named_output_that_does_not_exist():
    from typing import NamedTuple

    class Stats(NamedTuple):
        mean: float
        spread: int

    @plait.task
    def summarize(values: list[int]) -> Stats:
        return Stats(sum(values) / len(values), max(values) - min(values))

    with pytest.raises(AttributeError, match=r"has outputs \['mean', 'spread'\], not `median`"):

        @plait.workflow
        def wf(values: list[int]) -> float:
            return summarize(values=values).median


# ------------------------------------------------------- promises used as values


def test_python_if_on_a_workflow_input_points_to_conditional(resource):
    with pytest.raises(PromiseMisuseError, match=r"plait\.conditional\(\.\.\.\)\.if_\(\.\.\.\)"):
        resource("workflows/bad_python_if.py")


def test_python_if_on_a_task_output_points_to_conditional_and_dynamic():
    with pytest.raises(PromiseMisuseError, match=r"output `o0` of `.*add_one` \(node n0\) is a promise.*plait\.conditional.*@plait\.dynamic"):

        @plait.workflow
        def wf(n: int) -> int:
            bigger = add_one(count=n)
            if bigger:
                return bigger
            return add_one(count=bigger)


def test_python_for_on_a_promise_points_to_map(resource):
    with pytest.raises(PromiseMisuseError, match=r"workflow input `numbers` is a promise: a Python `for` loop.*plait\.map\(task\)"):
        resource("workflows/bad_python_for.py")


def test_bool_of_a_promise_points_to_conditional():
    with pytest.raises(PromiseMisuseError, match=r"workflow input `flag` is a promise.*`bool\(\)`.*plait\.conditional"):

        @plait.workflow
        def wf(flag: bool) -> bool:
            return bool(flag)


def test_len_of_a_promise_points_to_dynamic():
    with pytest.raises(PromiseMisuseError, match=r"`len\(\)` is not known while the workflow is compiled.*@plait\.dynamic"):

        @plait.workflow
        def wf(values: list[int]) -> int:
            return add_one(count=len(values))


def test_promise_misuse_is_also_a_type_error():
    with pytest.raises(TypeError):

        @plait.workflow
        def wf(n: int) -> int:
            return add_one(count=n + 1)


# ------------------------------------------------------------------ conditionals


def test_conditional_with_a_plain_bool():
    with pytest.raises(CompileError, match=r"conditional `check`: the condition is a plain bool \(True\); compare a promise"):

        @plait.workflow
        def wf(n: int) -> int:
            return (
                plait.conditional("check")
                .if_(True)
                .then(add_one(count=n))
                .else_()
                .then(add_one(count=0))
            )


def test_conditional_with_python_and_points_to_ampersand():
    with pytest.raises(PromiseMisuseError, match=r"use `&` and `\|` \(not `and`/`or`\)"):

        @plait.workflow
        def wf(n: int) -> int:
            return (
                plait.conditional("range")
                .if_((n > 1) and (n < 5))
                .then(add_one(count=n))
                .else_()
                .then(add_one(count=0))
            )


def test_mistake_inside_a_branch_is_reported_and_later_calls_still_run():
    with pytest.raises(CompileError, match=r"add_one` has no input\(s\) \['n'\] \(called in conditional `sign`\)"):

        @plait.workflow
        def wf(n: int) -> int:
            return (
                plait.conditional("sign")
                .if_(n > 0)
                .then(add_one(count=n))
                .else_()
                .then(add_one(n=n))
            )

    # as in a notebook after a failed cell: calling a task runs it
    assert add_one(count=1) == 2


def test_conditional_outside_a_workflow():
    with pytest.raises(CompileError, match=r"conditional `loose` works only inside a @workflow"):
        plait.conditional("loose")


# ------------------------------------------------------------------ launch plans


@plait.task
def pay(hours: int, rate: float) -> float:
    return hours * rate


@plait.workflow
def weekly_pay(hours: int, rate: float) -> float:
    return pay(hours=hours, rate=rate)


def test_overriding_a_fixed_launch_plan_input_in_a_workflow():
    lp = plait.LaunchPlan.get_or_create(weekly_pay, name="fixed_rate_pay", fixed_inputs={"rate": 20.0})

    @plait.workflow
    def ok() -> float:
        return lp(hours=10)

    assert ok() == 200.0
    with pytest.raises(CompileError, match=r"launch plan `fixed_rate_pay` fixes input\(s\) \['rate'\]; they cannot be overridden"):

        @plait.workflow
        def wf() -> float:
            return lp(hours=10, rate=30.0)


def test_overriding_a_fixed_launch_plan_input_when_running_it():
    lp = plait.LaunchPlan.get_or_create(weekly_pay, name="fixed_rate_pay_local", fixed_inputs={"rate": 20.0})

    with pytest.raises(InputError, match=r"fixes input\(s\) \['rate'\]; they cannot be overridden"):
        lp(hours=10, rate=30.0)


def test_default_launch_plan_inputs_can_be_overridden():
    lp = plait.LaunchPlan.get_or_create(weekly_pay, name="default_rate_pay", default_inputs={"rate": 20.0})

    assert lp(hours=10) == 200.0
    assert lp(hours=10, rate=30.0) == 300.0


# ---------------------------------------------------------------------- map


def test_map_inputs_of_different_lengths(resource):
    wf = resource("workflows/bad_map_lengths.py")

    with pytest.raises(InputError, match=r"mapped inputs have different lengths \{'hours': 3, 'rate': 2\}"):
        wf.payroll(hours=[10, 20, 30], rates=[15.0, 20.0])


def test_map_over_a_workflow_asks_for_a_launch_plan():
    with pytest.raises(UserError, match=r"map expects a @task, a launch plan .*LaunchPlan\.get_or_create\(wf\)"):
        plait.map(weekly_pay)


# ------------------------------------------------------------------- dynamic


def test_dynamic_recursion_without_a_base_case_hits_the_depth_limit(resource):
    wf = resource("workflows/bad_recursion.py")

    with pytest.raises(UserError, match=r"dynamic workflow `.*countdown` is nested 33 levels deep, past the limit of 32; make sure the recursion has a base case"):
        wf.run_countdown(n=3)


def test_dynamic_depth_limit_is_an_execution_option(resource):
    wf = resource("workflows/merge_sort.py")
    numbers = list(range(16, 0, -1))

    # 16 -> 8 -> 4 -> 2 alternates merge_sort and split_and_merge: 7 levels
    with pytest.raises(UserError, match="past the limit of 4"):
        execute(wf.sort_numbers, {"numbers": numbers, "threshold": 2}, max_dynamic_depth=4)
    run = execute(wf.sort_numbers, {"numbers": numbers, "threshold": 2}, max_dynamic_depth=7)
    assert run.outputs == {"o0": sorted(numbers)}


@pytest.mark.parametrize(
    "expression", [lambda p: -p, lambda p: abs(p), lambda p: 10 // p, lambda p: 2**p],
    ids=["neg", "abs", "rfloordiv", "rpow"],
)
def test_unary_and_reflected_arithmetic_on_a_promise_points_to_a_task(expression) -> None:
    @plait.task
    def one(n: int) -> int:
        return n

    with pytest.raises(PromiseMisuseError, match="do the arithmetic in a task"):

        @plait.workflow
        def wf(n: int) -> int:
            return one(n=expression(one(n=n)))


def test_returning_an_unfinished_conditional_says_how_to_finish_it() -> None:
    @plait.task
    def one(n: int) -> int:
        return n

    with pytest.raises(CompileError, match=r"conditional `pick`, which is not finished; end it with `.else_\(\).then"):

        @plait.workflow
        def wf(n: int) -> int:
            return plait.conditional("pick").if_(n > 1).then(one(n=n))


def test_a_workflow_above_the_task_it_calls_compiles_on_first_use(resource) -> None:
    program = resource("workflows/late_binding.py")
    assert program.tripled(n=2) == 6
    assert program.tripled.to_spec()["nodes"][0]["entity"].endswith("late_binding.triple")
    broken = resource("workflows/bad_undefined_name.py")  # defining it is fine...
    with pytest.raises(CompileError, match=r"workflow `.*broken`: name 'never_defined' is not defined; define it before running"):
        broken.broken(n=1)  # ...running it names the missing function

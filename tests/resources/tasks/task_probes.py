"""Tasks that report what they see while running: context, environment, files."""

import os

import plait as union


@union.task
def inspect_context() -> dict[str, str]:
    ctx = union.current_context()
    scratch = ctx.working_directory
    return {
        "execution_id": str(ctx.execution_id.name),
        "task_name": ctx.task_id.name,
        "attempt": str(ctx.attempt_number),
        "working_directory": scratch,
        "working_directory_exists": str(os.path.isdir(scratch)),
    }


@union.workflow
def two_probes() -> tuple[dict[str, str], dict[str, str]]:
    return inspect_context(), inspect_context()


@union.task(environment={"REPORT_LEVEL": "verbose", "REPORT_OWNER": "data-team"})
def report_settings() -> str:
    return f"{os.environ['REPORT_LEVEL']}/{os.environ['REPORT_OWNER']}"


@union.task
def read_variable(name: str) -> str:
    return os.environ.get(name, "<unset>")


@union.task(deprecated="use `median_v2` instead")
def median_v1(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


@union.task
def mean(values: list[float]) -> float:
    """Arithmetic mean of the values.

    Empty input is not allowed; the caller filters first.
    """
    return sum(values) / len(values)


@union.task(docs="Counts the words in a text.")
def word_count(text: str) -> int:
    return len(text.split())


@union.workflow
def summarize(values: list[float]) -> float:
    """Summarize a batch of values.

    Returns their mean.
    """
    return mean(values=values)

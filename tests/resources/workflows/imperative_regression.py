"""Imperative workflows: the regression tasks wired by calls instead of a decorator."""

import plait as union


@union.task
def slope(x: list[int], y: list[int]) -> float:
    n = len(x)
    sum_xy = sum(xi * yi for xi, yi in zip(x, y, strict=True))
    sum_x_squared = sum(xi**2 for xi in x)
    return (n * sum_xy - sum(x) * sum(y)) / (n * sum_x_squared - sum(x) ** 2)


@union.task
def intercept(x: list[int], y: list[int], slope: float) -> float:
    mean_x = sum(x) / len(x)
    mean_y = sum(y) / len(y)
    return mean_y - slope * mean_x


line_wf = union.Workflow(name="imperative_line")
line_wf.add_workflow_input("x", list[int])
line_wf.add_workflow_input("y", list[int])
slope_node = line_wf.add_entity(slope, x=line_wf.inputs["x"], y=line_wf.inputs["y"])
intercept_node = line_wf.add_entity(
    intercept, x=line_wf.inputs["x"], y=line_wf.inputs["y"], slope=slope_node.outputs["o0"]
)
line_wf.add_workflow_output("wf_output", intercept_node.outputs["o0"])


# Lists of inputs and lists of outputs.


@union.task
def shout(words: list[str]) -> str:
    return " ".join(words).upper()


@union.task
def whisper(words: list[str]) -> str:
    return " ".join(words).lower()


greeting_wf = union.Workflow(name="imperative_greeting")
first = greeting_wf.add_workflow_input("first", str)
second = greeting_wf.add_workflow_input("second", str)
loud = greeting_wf.add_entity(shout, words=[greeting_wf.inputs["first"], second])
quiet = greeting_wf.add_entity(whisper, words=[first, second])
greeting_wf.add_workflow_output(
    "both", [loud.outputs["o0"], quiet.outputs["o0"]], python_type=list[str]
)

"""A bash step between Python tasks, and a task whose printed lines are its progress report."""

import sys

import plait as union


@union.task
def write_text(words: list[str]) -> union.FlyteFile:
    path = union.current_context().working_directory + "/text.txt"
    with open(path, "w") as fh:
        fh.write(" ".join(words) + "\n")
    return union.FlyteFile(path)


count_words = union.ShellTask(
    name="count_words",
    script="""
    set -eu
    echo "counting the words of $(basename {inputs.text})"
    wc -w < {inputs.text} | tr -d ' ' > {outputs.count}
    """,
    inputs=union.kwtypes(text=union.FlyteFile),
    output_locs=[union.OutputLocation(var="count", var_type=union.FlyteFile, location="count.txt")],
)


@union.task
def read_count(count: union.FlyteFile) -> int:
    with open(count) as fh:
        return int(fh.read().strip())


@union.workflow
def word_count_in_bash(words: list[str]) -> int:
    return read_count(count=count_words(text=write_text(words=words)))


@union.task
def count_down(start: int) -> int:
    for n in range(start, 0, -1):
        print(f"countdown {n}", flush=True)
    print("liftoff", file=sys.stderr, flush=True)
    return start

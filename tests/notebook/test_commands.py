"""`%plait run` and `%plait launch` lines read by one parser (no kernel needed: a shell is its namespace)."""

from __future__ import annotations

from types import SimpleNamespace

import plait
import pytest
from plait.notebook.cells import CellError
from plait.notebook.commands import LAUNCH, RUN, Syntax, lookup, parse_line, read_inputs


@plait.task
def greet(word: str, out: int = 0) -> str:
    return word


def shell() -> SimpleNamespace:
    return SimpleNamespace(user_ns={"greet": greet, "n": 3})


def test_options_go_before_the_entity_and_inputs_after_it() -> None:
    opts, name, entity, words = parse_line(
        RUN, shell(), ["--out", "x", "--max-parallelism=2", "--env", "A=1", "--no-progress", "greet", "--word", "hi"])
    assert (opts.out, opts.max_parallelism, opts.envs, opts.progress) == ("x", 2, {"A": "1"}, False)
    assert (name, entity, words) == ("greet", greet, ["--word", "hi"])
    assert read_inputs(RUN, name, entity, words) == {"word": "hi"}


def test_launch_also_takes_options_after_the_inputs_unless_an_input_has_the_name() -> None:
    opts, _, _, words = parse_line(LAUNCH, shell(), ["greet", "--word", "hi", "--wait", "--out", "1", "--project", "p"])
    assert (opts.wait, opts.project) == (True, "p")
    assert words == ["--word", "hi", "--out", "1"]  # `out` is an input of greet


@pytest.mark.parametrize("syntax", [RUN, LAUNCH], ids=["run", "launch"])
@pytest.mark.parametrize(
    ("line", "message"),
    [
        (["--out", "1x", "greet"], "%plait {c} --out expects a variable name, got '1x'"),
        (["--max-parallelism", "0", "greet"], "%plait {c} --max-parallelism expects a whole number >= 1, got '0'"),
        (["--env", "NOEQUALS", "greet"], "%plait {c} --env expects KEY=VALUE, got 'NOEQUALS'"),
        (["--name"], "%plait {c} --name needs a value"),
        (["--bogus=1", "greet"], "%plait {c}: unknown option --bogus; "),
    ],
)
def test_the_same_mistake_reads_the_same_in_both_commands(syntax: Syntax, line: list[str], message: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_line(syntax, shell(), line)
    assert str(caught.value).startswith(message.format(c=syntax.command))


def test_bad_input_names_the_command_and_the_input() -> None:
    _, name, entity, words = parse_line(RUN, shell(), ["greet", "--wrd", "x"])
    with pytest.raises(CellError, match=r"%plait run greet: `.*greet` has no input --wrd; its inputs: --word, --out"):
        read_inputs(RUN, name, entity, words)


def test_a_line_without_an_entity_shows_the_usage() -> None:
    with pytest.raises(CellError, match=r"^usage: %plait run \[OPTIONS\] WF --input value \.\.\.$"):
        parse_line(RUN, shell(), ["--no-progress"])
    with pytest.raises(CellError, match=r"^usage: %plait launch WF --input value \.\.\. \[OPTIONS\]; options: --wait"):
        parse_line(LAUNCH, shell(), [])


def test_lookup_names_what_is_not_an_entity() -> None:
    with pytest.raises(CellError, match="`nope` is not defined; run the cell that defines it first"):
        lookup(shell(), "nope")
    with pytest.raises(CellError, match="`n` is a int, not a task, workflow or launch plan"):
        lookup(shell(), "n")

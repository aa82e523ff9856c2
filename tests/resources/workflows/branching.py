"""Conditionals: branches chosen at run time from promises, as flytekit users write them."""

import typing

import plait as union


@union.task
def double(n: float) -> float:
    return 2 * n


@union.task
def square(n: float) -> float:
    return n * n


@union.task
def negate(n: float) -> float:
    return -n


@union.workflow
def fraction_or_not(value: float) -> float:
    # `&` joins comparisons (Python's `and` cannot be used on promises)
    return (
        union.conditional("fraction")
        .if_((value >= 0.1) & (value <= 1.0))
        .then(double(n=value))
        .else_()
        .then(square(n=value))
    )


@union.workflow
def by_size(value: float) -> float:
    return (
        union.conditional("size")
        .if_((value > 0.0) & (value < 1.0))
        .then(double(n=value))
        .elif_((value >= 1.0) & (value <= 10.0))
        .then(square(n=value))
        .else_()
        .fail("the value must be in (0, 10]")
    )


@union.workflow
def outside_unit(value: float) -> float:
    # `|` is "or"
    return (
        union.conditional("outside")
        .if_((value < 0.0) | (value > 1.0))
        .then(negate(n=value))
        .else_()
        .then(double(n=value))
    )


@union.task
def is_even(n: int) -> bool:
    return n % 2 == 0


@union.task
def say(text: str) -> str:
    return text


@union.workflow
def parity(n: int) -> str:
    # a task's boolean output decides the branch
    even = is_even(n=n)
    return (
        union.conditional("parity")
        .if_(even.is_true())
        .then(say(text="even"))
        .else_()
        .then(say(text="odd"))
    )


@union.workflow
def greet(name: typing.Optional[str] = None) -> str:  # noqa: UP045
    return (
        union.conditional("named")
        .if_(name.is_none())
        .then(say(text="hello, stranger"))
        .else_()
        .then(say(text="hello, friend"))
    )


@union.workflow
def doubled_then_squared(value: float) -> float:
    # the output of a conditional feeds the next task, and a task's
    # output can be compared in the next conditional
    first = (
        union.conditional("first")
        .if_(value < 0.0)
        .then(negate(n=value))
        .else_()
        .then(double(n=value))
    )
    return (
        union.conditional("second")
        .if_(first > 5.0)
        .then(square(n=first))
        .else_()
        .then(double(n=first))
    )


@union.workflow
def nested_choice(value: float, strict: bool) -> float:
    # a conditional may branch into a subworkflow that has its own conditional
    return (
        union.conditional("strictness")
        .if_(strict.is_true())
        .then(by_size(value=value))
        .else_()
        .then(fraction_or_not(value=value))
    )

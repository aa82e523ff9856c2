"""A small pipeline for the lab's browser tests: typed inputs, logs, a subworkflow."""

import time

import plait as union


@union.task
def clean(values: list[int], floor: int = 0) -> list[int]:
    """Drop values below the floor."""
    kept = [v for v in values if v >= floor]
    print(f"cleaning {len(values)} values, kept {len(kept)}")
    return kept


@union.task
def total(values: list[int]) -> int:
    print(f"adding up {values}")
    time.sleep(0.5)
    return sum(values)


@union.task
def describe(total: int, label: str) -> str:
    text = f"{label}: {total}"
    print(text)
    return text


@union.workflow
def summarise(values: list[int], floor: int = 0) -> int:
    return total(values=clean(values=values, floor=floor))


@union.workflow
def report(values: list[int], label: str = "sum", floor: int = 0) -> str:
    """Clean the values, add them up and describe the total."""
    return describe(total=summarise(values=values, floor=floor), label=label)

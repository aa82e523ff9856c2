"""Chaining: `>>` orders nodes that share no data, and create_node gives the node itself."""

import time

import plait as union


@union.task
def append_line(path: str, line: str, delay: float = 0.0) -> None:
    time.sleep(delay)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


@union.workflow
def ordered_writes(path: str) -> None:
    # Defined in one order, run in the opposite one: the slow write goes first
    # and the others wait for it although no data flows between them.
    first = append_line(path=path, line="written first", delay=0.2)
    second = append_line(path=path, line="written second", delay=0.1)
    third = append_line(path=path, line="written third")
    first >> second >> third


@union.workflow
def unordered_writes(path: str) -> None:
    append_line(path=path, line="slow", delay=0.2)
    append_line(path=path, line="fast")


@union.task(cache=True, cache_version="1")
def doubled(values: list[int]) -> list[int]:
    return [2 * v for v in values]


@union.task
def same(a: list[int], b: list[int]) -> bool:
    return a == b


@union.workflow
def run_twice_in_order(values: list[int]) -> bool:
    # the second node waits for the first, so it finds its result in the cache
    first_node = union.create_node(doubled, values=values)
    second_node = union.create_node(doubled, values=values)
    first_node >> second_node
    return same(a=first_node.o0, b=second_node.outputs["o0"])

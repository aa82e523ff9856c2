"""Dynamic workflows: count the characters two strings have in common.

The number of task calls depends on the lengths of the strings, which are
known only when the dynamic workflow runs.
"""

import plait as union


@union.task
def letter_index(character: str) -> int:
    """A-Z and a-z both map to 0-25."""
    base = "a" if character.islower() else "A"
    return ord(character) - ord(base)


@union.task
def bump(counts: list[int], index: int) -> list[int]:
    counts[index] += 1
    return counts


@union.task
def shared_count(counts1: list[int], counts2: list[int]) -> int:
    return sum(min(a, b) for a, b in zip(counts1, counts2, strict=True))


@union.dynamic
def count_common(s1: str, s2: str) -> int:
    # Inside a dynamic workflow the inputs are real strings, so Python loops work;
    # what the tasks return are promises.
    counts1 = [0] * 26
    counts2 = [0] * 26
    for ch in s1:
        counts1 = bump(counts=counts1, index=letter_index(character=ch))
    for ch in s2:
        counts2 = bump(counts=counts2, index=letter_index(character=ch))
    return shared_count(counts1=counts1, counts2=counts2)


@union.workflow
def common_characters(s1: str, s2: str) -> int:
    return count_common(s1=s1, s2=s2)

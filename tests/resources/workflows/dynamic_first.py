"""A dynamic workflow defined before the tasks it calls, run as a script.

Its body runs only when the workflow runs, so the tasks may come later in the file.
"""

import plait as union


@union.dynamic
def sum_of_squares(numbers: list[int]) -> int:
    return total(values=[square(n=n) for n in numbers])


@union.task
def square(n: int) -> int:
    return n * n


@union.task
def total(values: list[int]) -> int:
    return sum(values)


if __name__ == "__main__":
    print(sum_of_squares(numbers=[1, 2, 3]))

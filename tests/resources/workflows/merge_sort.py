"""Dynamic workflows: merge sort by recursion, sorting small pieces in one task."""

import plait as union


@union.task
def halves(numbers: list[int]) -> tuple[list[int], list[int]]:
    middle = len(numbers) // 2
    return numbers[:middle], numbers[middle:]


@union.task
def merge(left: list[int], right: list[int]) -> list[int]:
    merged: list[int] = []
    i = j = 0
    while i < len(left) and j < len(right):
        if left[i] < right[j]:
            merged.append(left[i])
            i += 1
        else:
            merged.append(right[j])
            j += 1
    return merged + left[i:] + right[j:]


@union.task
def sort_here(numbers: list[int]) -> list[int]:
    return sorted(numbers)


@union.dynamic
def split_and_merge(numbers: list[int], threshold: int) -> list[int]:
    left, right = halves(numbers=numbers)
    sorted_left = merge_sort(numbers=left, threshold=threshold)
    sorted_right = merge_sort(numbers=right, threshold=threshold)
    return merge(left=sorted_left, right=sorted_right)


@union.dynamic
def merge_sort(numbers: list[int], threshold: int = 5) -> list[int]:
    if len(numbers) <= threshold:
        return sort_here(numbers=numbers)
    return split_and_merge(numbers=numbers, threshold=threshold)


@union.workflow
def sort_numbers(numbers: list[int], threshold: int = 5) -> list[int]:
    return merge_sort(numbers=numbers, threshold=threshold)

"""The programs the pools benchmark registers: a chain, maps on two pools, and a task in an
ImageSpec environment."""

import plait
from plait import ImageSpec

image = ImageSpec(name="bench-inflection", packages=["inflection==0.5.1"])


@plait.task
def inc(x: int) -> int:
    return x + 1


@plait.task(interruptible=True)
def spot_inc(x: int) -> int:
    return x + 1


@plait.task(container_image=image)
def in_image(x: int) -> int:
    return x + 1


@plait.workflow
def chain(x: int) -> int:
    for _ in range(200):
        x = inc(x=x)
    return x


@plait.workflow
def two_pools(xs: list[int], ys: list[int]) -> tuple[list[int], list[int]]:
    return plait.map(inc)(x=xs), plait.map(spot_inc)(x=ys)

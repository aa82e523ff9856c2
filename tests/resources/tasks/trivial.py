"""A task that does nothing much: what a launch burst launches."""

import plait


@plait.task
def echo(x: int) -> int:
    return x

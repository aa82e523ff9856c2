"""A slow cached task that many executions ask for at once: `serialize=True`
lets one of them compute it while the others wait for its result."""

import time
import uuid

import plait


@plait.task(cache=plait.Cache(version="1", serialize=True))
def expensive(path: str, x: int) -> str:
    with open(path, "a", encoding="utf-8") as f:
        f.write("ran\n")
    time.sleep(1)
    return f"{x}-{uuid.uuid4().hex}"

"""The spelling of the first eager release: `experimental.eager`, awaited tasks, a cache."""

from plait import task
from plait.experimental import eager

runs = {"count": 0}


@task(cache=True, cache_version="1")
def shout(word: str) -> str:
    runs["count"] += 1
    return word.upper() + "!"


@eager
async def greet(name: str) -> str:
    loud = await shout(word=name)
    return f"hello {loud}"

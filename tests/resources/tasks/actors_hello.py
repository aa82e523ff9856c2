"""A first actor: one warm replica greets, and the same actor runs several tasks."""

import plait as union

greeter = union.ActorEnvironment(
    name="greeter",
    replica_count=1,
    ttl_seconds=60,
    requests=union.Resources(cpu="1", mem="256Mi"),
    environment={"GREETING": "hello"},
    container_image="ghcr.io/example/greeter:1.0",
)


@greeter.task
def greet() -> str:
    import os

    return os.environ["GREETING"]


@greeter.task(retries=2, cache=True, cache_version="1")
def shout(name: str) -> str:
    return f"{name.upper()}!"


@greeter.task
def add_one(value: int) -> int:
    return value + 1


@union.workflow
def hello_wf() -> str:
    return greet()


@union.workflow
def count_up(start: int = 0) -> int:
    # one actor task used four times in a row; each call reuses the replica
    a = add_one(value=start)
    b = add_one(value=a)
    c = add_one(value=b)
    return add_one(value=c)


@union.workflow
def child(name: str) -> str:
    return shout(name=name)


child_lp = union.LaunchPlan.get_or_create(child, name="actors_hello.child_lp")


@union.workflow
def parent(name: str) -> str:
    # the actor serves tasks in a subworkflow and a sub-launch plan alike
    return child_lp(name=child(name=name))

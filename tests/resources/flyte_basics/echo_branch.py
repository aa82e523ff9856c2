"""A conditional whose "nothing to do" branch is an Echo task, as Flyte programs write it."""

from plait import conditional, task, workflow
from plait.core.task import Echo

keep = Echo(name="keep", inputs={"amount": float})


@task
def apply_discount(amount: float) -> float:
    return round(amount * 0.9, 2)


@workflow
def checkout(amount: float, member: bool) -> float:
    return (
        conditional("discount")
        .if_(member.is_true())
        .then(apply_discount(amount=amount))
        .else_()
        .then(keep(amount=amount))
    )

"""Workflows that use entities of the program `answers` pinned to its version v1.

`answers` is registered as v1 and then as v2, whose entities answer "v2"; these
must still get v1's answers. `asks_v9` pins a version that was never registered.
"""

import plait


@plait.reference_task(project="default", domain="development", name="answers.answer", version="v1")
def answer(question: str) -> str: ...


@plait.reference_launch_plan(project="default", domain="development", name="answer_lp", version="v1")
def answer_lp(question: str) -> str: ...


@plait.workflow
def asks_v1(question: str) -> str:
    return answer(question=question)


@plait.workflow
def asks_plan_v1(question: str) -> str:
    return answer_lp(question=question)

"""A workflow whose reference pins a version of `answers.answer` that was never registered."""

import plait


@plait.reference_task(project="default", domain="development", name="answers.answer", version="v9")
def answer_v9(question: str) -> str: ...


@plait.workflow
def asks_v9(question: str) -> str:
    return answer_v9(question=question)

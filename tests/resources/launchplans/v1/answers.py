"""The program `answers` as its version v1: every entity answers "v1"."""

import plait


@plait.task
def answer(question: str) -> str:
    return f"{question}: v1"


@plait.workflow
def answering(question: str) -> str:
    return answer(question=question)


answer_lp = plait.LaunchPlan.get_or_create(answering, name="answer_lp")

"""A workflow that stops to ask how many times to repeat a word (an int signal with an hour to answer).

The lab's execution view gives the value through its form; a value that is not an
integer is refused by the field before anything is sent.
"""

from __future__ import annotations

import datetime as dt

import plait


@plait.task
def repeat(word: str, times: int) -> str:
    return " ".join([word] * times)


@plait.workflow
def repeated(word: str) -> str:
    times = plait.wait_for_input("times", timeout=dt.timedelta(hours=1), expected_type=int)
    return repeat(word=word, times=times)

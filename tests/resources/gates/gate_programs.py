"""Workflows that pause: for time, for a typed value, for an approval (the gate nodes)."""

from __future__ import annotations

import datetime as dt

import plait


@plait.task
def draft(topic: str) -> str:
    return f"a draft about {topic}"


@plait.task
def publish(text: str, title: str) -> str:
    return f"{title}: {text}"


@plait.task
def double(n: int) -> int:
    return n * 2


@plait.workflow
def titled(topic: str) -> str:
    text = draft(topic=topic)
    title = plait.wait_for_input("title", timeout=dt.timedelta(minutes=10), expected_type=str)
    return publish(text=text, title=title)


@plait.workflow
def reviewed(topic: str) -> str:
    text = draft(topic=topic)
    checked = plait.approve(text, "review", timeout=dt.timedelta(minutes=10))
    return publish(text=checked, title="approved")


@plait.workflow
def paused(n: int) -> int:
    first = double(n=n)
    pause = plait.sleep(dt.timedelta(seconds=1))
    second = double(n=first)
    pause >> second
    return second


@plait.task
def repeat(text: str, count: int) -> str:
    return " / ".join([text] * count)


@plait.workflow
def impatient(topic: str) -> str:
    count = plait.wait_for_input("count", timeout=dt.timedelta(seconds=1), expected_type=int)
    return repeat(text=draft(topic=topic), count=count)

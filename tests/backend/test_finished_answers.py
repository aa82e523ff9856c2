"""Finished executions' answers are kept serialised; the cache stays within its bytes."""

from __future__ import annotations

from plait.backend.api.routes_executions import _FinishedAnswers


def test_least_recently_read_answers_leave_first_and_the_total_stays_bounded() -> None:
    cache = _FinishedAnswers(max_bytes=800)
    for key in "abcd":
        cache.put(key, key.encode() * 100)  # 100 bytes each, under an eighth of the budget
    assert cache.get("a") == b"a" * 100
    for key in "efghi":
        cache.put(key, key.encode() * 100)
    assert cache.get("b") is None  # the oldest unread one went first
    assert cache.get("a") == b"a" * 100  # read recently, still there
    assert sum(len(cache.get(k) or b"") for k in "abcdefghi") <= 800


def test_an_answer_too_large_for_its_share_is_not_kept() -> None:
    cache = _FinishedAnswers(max_bytes=800)
    cache.put("big", b"x" * 101)
    assert cache.get("big") is None

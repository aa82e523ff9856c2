"""What a run makes of an attempt's answer beyond its outputs: system retries and usage.

An attempt fails as SYSTEM when its worker was lost or killed (no answer came
back); as USER when the task itself raised or timed out (the answer says so).
SYSTEM failures are retried up to SYSTEM_RETRIES times whatever the task's
settings; USER failures only when recoverable, up to the task's `retries`.

An interruptible task runs on an interruptible pool (spot workers) until its
last system retry: that one runs on a pool that is not interruptible, so a task
preempted again and again still finishes (`last_system_retry`).
"""

from __future__ import annotations

from typing import Any

SYSTEM_RETRIES = 3
USAGE_FIELDS = ("cpu_peak", "cpu_avg", "mem_peak", "mem_avg",
                "gpu_util_avg", "gpu_util_peak", "gpu_mem_avg", "gpu_mem_peak")


def last_system_retry(system_failures: int) -> bool:
    """Whether the next attempt after `system_failures` SYSTEM failures is the last one they
    allow (it runs on a pool that is not interruptible)."""
    return system_failures >= SYSTEM_RETRIES


def usage_fields(usage: dict[str, Any]) -> dict[str, Any]:
    """The resource usage a worker measured, as the attempt record's fields."""
    return {k: usage.get(k) for k in USAGE_FIELDS}

"""What a run makes of an attempt's answer beyond its outputs: system retries and usage.

An attempt fails as SYSTEM when its worker was lost or killed (no answer came
back); as USER when the task itself raised or timed out (the answer says so).
SYSTEM failures are retried up to SYSTEM_RETRIES times whatever the task's
settings; USER failures only when recoverable, up to the task's `retries`.
"""

from __future__ import annotations

from typing import Any

SYSTEM_RETRIES = 3
USAGE_FIELDS = ("cpu_peak", "cpu_avg", "mem_peak", "mem_avg")


def usage_fields(usage: dict[str, Any]) -> dict[str, Any]:
    """The resource usage a worker measured, as the attempt record's fields."""
    return {k: usage.get(k) for k in USAGE_FIELDS}

"""`flytekit.core.schedule`: the launch plan schedules."""

from ..config.schedules import CronSchedule, FixedRate

__all__ = ["CronSchedule", "FixedRate"]

"""`flytekit.extras.tasks.shell`: `ShellTask` and `OutputLocation`."""

from ...task_types.shell import OutputLocation, ShellTask

__all__ = ["OutputLocation", "ShellTask"]

"""`flytekit.core.launch_plan`: `LaunchPlan` and `reference_launch_plan`."""

from ..sdk.launch_plan import LaunchPlan, reference_launch_plan

__all__ = ["LaunchPlan", "reference_launch_plan"]

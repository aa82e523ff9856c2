"""Flyte's `flytekit.experimental` as `plait.experimental`: where `@eager` first lived.

`from flytekit.experimental import eager` becomes `from plait.experimental import eager`;
the names are plait's own (`plait.eager`, `plait.EagerException`).
"""

from ..sdk.eager import EagerException, eager

__all__ = ["EagerException", "eager"]

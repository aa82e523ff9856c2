"""GPU accelerator constants, where `flytekit.extras.accelerators` keeps them."""

from __future__ import annotations

from .resources import (
    A10G,
    A100,
    A100_80GB,
    K80,
    L4,
    L40S,
    M60,
    P4,
    P100,
    T4,
    V100,
    GPUAccelerator,
    accelerator_from,
)

__all__ = [
    "A10G",
    "A100",
    "A100_80GB",
    "K80",
    "L4",
    "L40S",
    "M60",
    "P4",
    "P100",
    "T4",
    "V100",
    "GPUAccelerator",
    "accelerator_from",
]

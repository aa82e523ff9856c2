"""`flytekit.extras.accelerators`: the GPU constants, as `plait.config.accelerators` has them."""

from ..config.accelerators import (
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
)

__all__ = ["A10G", "A100", "A100_80GB", "K80", "L4", "L40S", "M60", "P4", "P100", "T4", "V100", "GPUAccelerator"]

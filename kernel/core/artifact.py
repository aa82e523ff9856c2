"""`flytekit.core.artifact`: `Artifact`, `Inputs` and `Granularity`, where Flyte programs import them."""

from ..artifacts import Artifact, ArtifactQuery, Granularity, Inputs

__all__ = ["Artifact", "ArtifactQuery", "Granularity", "Inputs"]

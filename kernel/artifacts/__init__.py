"""Artifacts: named, versioned, partitioned task outputs that workflows query and react to.

Declare an artifact once (`Model = Artifact(name="model", partition_keys=["region"])`),
mark a task output with it (`-> Annotated[T, Model(region=Inputs.region)]`) or
return `Model.create_from(value, region="eu")`, and each run of the task makes
a new version. `Model.query(...)` names "the latest version matching these
partitions"; it can be a launch plan's default input, and `OnArtifact` makes
a launch plan run when a new version appears.

Locally, versions are kept under `$PLAIT_HOME/artifacts/`: `index.json` lists
them and `values/<version>.pkl` holds each value. The backend keeps the same
records in its database; the specs here are what it receives.

The package, from the bottom up:
- `store`: stored versions and the local store;
- `query`: `Inputs.x`, partition references, time granularity, `ArtifactQuery`;
- `artifact`: `Artifact`, `create_from` and the model and data cards;
- `triggers`: `OnArtifact`;
- `catalog`: `plait.catalog()`, the calls of `plait.Remote`'s catalog over the local store;
- `engine_hook`: `pending_versions`, the versions a finished attempt makes, and
  `record_outputs`, which stores them locally (the backend records them itself).
"""

from __future__ import annotations

from .artifact import MAX_PARTITION_KEYS, Artifact, ArtifactValue, DataCard, ModelCard
from .catalog import ArtifactSummary, LocalCatalog, catalog
from .engine_hook import declared_artifact, pending_versions, record_outputs
from .query import ArtifactQuery, Granularity, InputRef, Inputs, PartitionRef
from .store import ArtifactNotFoundError, ArtifactRecord, ArtifactStore, list_artifacts
from .triggers import OnArtifact

__all__ = [
    "MAX_PARTITION_KEYS",
    "Artifact",
    "ArtifactNotFoundError",
    "ArtifactQuery",
    "ArtifactRecord",
    "ArtifactStore",
    "ArtifactSummary",
    "ArtifactValue",
    "DataCard",
    "Granularity",
    "InputRef",
    "Inputs",
    "LocalCatalog",
    "ModelCard",
    "OnArtifact",
    "PartitionRef",
    "catalog",
    "declared_artifact",
    "list_artifacts",
    "pending_versions",
    "record_outputs",
]

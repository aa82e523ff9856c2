"""Data types where Flyte programs import them (`flytekit.types.structured`, `.file`, `.directory`)."""

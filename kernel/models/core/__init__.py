"""`flytekit.models.core`."""

"""Flyte's `flytekit.exceptions` module paths, for programs that import errors from them."""

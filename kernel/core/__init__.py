"""Flyte's `flytekit.core.*` module paths, for programs that import from them.

`from flytekit.core.task import Echo` becomes `from plait.core.task import Echo`;
each module here only names what plait defines elsewhere.
"""

"""plait.backend: the FastAPI service, its store and the Dask executor.

Uses the specs and type system of `plait`; never imported by `plait` itself.
"""

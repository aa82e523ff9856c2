"""plait.backend: the FastAPI service, its store and the Dask executor.

Uses the specs and type system of `plait`; never imported by `plait` itself.
"""


def server_version() -> str:
    """The installed plait version this server runs (`0+unknown` from a plain checkout)."""
    from importlib import metadata

    try:
        return metadata.version("plait")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "0+unknown"

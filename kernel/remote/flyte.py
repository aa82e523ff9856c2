"""`UnionRemote` / `FlyteRemote` and `Config`: the Union and flytekit spellings of `plait.Remote`.

    from union.remote import UnionRemote             # import plait as union: plait.remote
    from flytekit.configuration import Config        # plait.configuration
    remote = UnionRemote(config=Config.auto(), default_project="default", default_domain="development")

`Config.auto()` finds the backend the way `plait.Remote()` does (the
`PLAIT_ENDPOINT` variable, else the server this machine runs);
`Config.for_endpoint(url)` names one. Everything else is `plait.Remote`:
`execute`, `fetch_workflow`, `get_artifact`, `set_signal`, ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .client import Remote


@dataclass(frozen=True)
class Config:
    """Where the backend is: `Config.auto()` (found as `plait.Remote()` finds it) or an endpoint."""

    endpoint: str | None = None
    token: str | None = None

    @classmethod
    def auto(cls, config_file: str | None = None) -> Config:
        """The backend plait finds on its own; flytekit's config files are not read."""
        return cls()

    @classmethod
    def for_endpoint(cls, endpoint: str, insecure: bool = False, data_config: Any = None,
                     config_file: str | None = None) -> Config:
        """The backend at `endpoint` (`http://host:port`; a bare `host:port` gets `http://`)."""
        if "://" not in endpoint:
            endpoint = f"http://{endpoint}"
        return cls(endpoint=endpoint)


class UnionRemote(Remote):
    """`plait.Remote` under Union's and flytekit's constructor arguments."""

    def __init__(self, config: Config | None = None, default_project: str | None = None,
                 default_domain: str | None = None, **options: Any) -> None:
        config = config or Config.auto()
        super().__init__(config.endpoint, project=default_project or "default",
                         domain=default_domain or "development", token=config.token, **options)


FlyteRemote = UnionRemote

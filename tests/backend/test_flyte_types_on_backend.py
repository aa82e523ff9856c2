"""StructuredDatasets and custom types on a real backend: the results of a local run, and caching.

The programs (tests/resources/flyte_types/) are written as Flyte users write them; each workflow
runs through the local engine and on the backend, and the two must agree.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from plait.remote import Remote
from plait.types.structured import StructuredDataset
from server_fixture import running_server

pytestmark = pytest.mark.slow

FOLDER = Path(__file__).parent.parent / "resources" / "flyte_types"
MODULES = ("order_tables", "coordinates")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_server(tmp_path_factory.mktemp("flyte-types-home")) as server:
        yield server


@pytest.fixture(scope="module")
def remote(server: Any) -> Iterator[Remote]:
    with server.remote() as client:
        for module in MODULES:
            client.register(str(FOLDER / f"{module}.py"), version="v1")
        yield client


@pytest.fixture(scope="module")
def programs() -> Any:
    sys.path.insert(0, str(FOLDER))
    try:
        import coordinates
        import order_tables

        return {"order_tables": order_tables, "coordinates": coordinates}
    finally:
        sys.path.remove(str(FOLDER))


def run(remote: Remote, name: str, inputs: dict[str, Any] | None = None) -> Any:
    done = remote.execute(remote.fetch_workflow(name, "v1"), inputs or {}).wait(timeout=120)
    assert done.phase == "SUCCEEDED", done.error
    return done


def local(programs: Any, name: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    module, workflow = name.split(".")
    result = getattr(programs[module], workflow)(**(inputs or {}))
    values = tuple(result) if isinstance(result, tuple) else (result,)
    return {f"o{i}": v for i, v in enumerate(values)}


@pytest.mark.parametrize(("name", "inputs"), [
    ("order_tables.orders_wf", None),
    ("order_tables.ledger_wf", None),
    ("coordinates.route_wf", {"name": "summit"}),
    ("coordinates.notebook_wf", {"pages": 7}),
])
def test_the_backend_gives_the_local_results(remote: Remote, programs: Any, name: str,
                                             inputs: dict[str, Any] | None) -> None:
    assert run(remote, name, inputs).outputs == local(programs, name, inputs)


def test_a_dataset_output_is_a_parquet_file_in_the_object_store(remote: Remote, programs: Any) -> None:
    done = run(remote, "order_tables.orders_table_wf")
    ref = done.record["outputs"]["o0"]
    assert ref["format"] == "parquet" and ref["uri"].endswith(".parquet") and ref["structured_dataset"]
    assert remote.download(ref["uri"])[:4] == b"PAR1"
    value = done.outputs["o0"]
    assert isinstance(value, StructuredDataset)
    pd.testing.assert_frame_equal(value.open(pd.DataFrame).all(), pd.DataFrame(programs["order_tables"].ORDERS))
    assert ref["hash"] == programs["order_tables"].load_orders().__plait_hash__()  # the local engine's hash


def test_a_cached_task_taking_a_dataset_is_a_cache_hit_the_second_time(remote: Remote) -> None:
    first = run(remote, "order_tables.cached_total_wf")
    second = run(remote, "order_tables.cached_total_wf")
    phases = [{n.entity.rsplit(".", 1)[-1]: n.phase for n in done.nodes()} for done in (first, second)]
    assert phases[0]["grand_total"] == "SUCCEEDED"
    assert phases[1] == {"load_orders": "SUCCEEDED", "grand_total": "CACHE_HIT"}
    assert first.outputs == second.outputs == {"o0": 80.5}

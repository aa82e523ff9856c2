"""StructuredDataset in local runs: Flyte's documented behaviour, from a user's program."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
import plait
import pyarrow as pa
import pytest
from plait import kwtypes, task, workflow
from plait.run.engine import CACHE_HIT, SUCCEEDED, execute
from plait.types.structured import (
    PARQUET,
    DuplicateHandlerError,
    StructuredDataset,
    StructuredDatasetDecoder,
    StructuredDatasetEncoder,
    StructuredDatasetTransformerEngine,
)
from plait.typesys import checker, is_assignable, type_spec, value_hash


@pytest.fixture(scope="module")
def orders(resource: Any) -> Any:
    return resource("flyte_types/order_tables.py")


def test_the_names_import_from_where_flyte_programs_import_them() -> None:
    from plait.types.structured.structured_dataset import StructuredDataset as deep

    assert plait.StructuredDataset is StructuredDataset is deep
    assert plait.StructuredDatasetTransformerEngine is StructuredDatasetTransformerEngine


def test_an_orders_workflow_gives_the_results_flyte_documents(orders: Any) -> None:
    columns, totals, count, biggest, gift_ids, csv_format, csv_amount = orders.orders_wf()
    assert columns == ["region", "amount"]  # only the annotated columns, in their order
    assert totals == {"east": 8.0, "north": 32.5, "south": 40.0}
    assert count == 5  # a pd.DataFrame input takes the dataset
    assert biggest == 102  # and so does a pa.Table input
    assert gift_ids == [101, 105]  # a plain frame returned where a dataset is declared
    assert (csv_format, csv_amount) == ("csv", 80.5)  # Annotated[..., CSV] writes CSV


def test_a_dataset_output_is_stored_as_parquet_in_the_data_folder(orders: Any, plait_home: Any) -> None:
    sd = orders.load_orders()
    assert isinstance(sd, StructuredDataset) and sd.dataframe is None
    assert sd.file_format == PARQUET and sd.uri.startswith(str(plait_home))
    assert pq_columns(sd.uri) == ["order_id", "region", "amount", "note"]
    pd.testing.assert_frame_equal(sd.open(pd.DataFrame).all(), pd.DataFrame(orders.ORDERS))


def pq_columns(folder: str) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(f"{folder}/00000").names)


def test_all_needs_open_first_with_flytes_message() -> None:
    sd = StructuredDataset(dataframe=pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match=r"No dataframe type set\. Use open\(\)"):
        sd.all()
    assert sd.open(pd.DataFrame).all() is sd.dataframe  # in memory and of that class: the frame itself
    assert sd.open(pa.Table).all().column("a").to_pylist() == [1]


def test_a_decoder_that_yields_chunks_is_read_with_iter(orders: Any) -> None:
    sizes, net = orders.ledger_wf()
    assert (sizes, net) == ([2, 2, 1], 195)
    ledger = orders.open_ledger()
    with pytest.raises(ValueError, match=r"yields chunks; read this StructuredDataset with \.iter\(\)"):
        ledger.open(orders.Ledger).all()
    with pytest.raises(ValueError, match=r"returns the whole frame.*\.all\(\)"):
        ledger.open(pd.DataFrame).iter()


def test_a_second_handler_for_the_same_key_is_refused_unless_it_overrides() -> None:
    class Tiny:
        pass

    class TinyEncoder(StructuredDatasetEncoder):
        def __init__(self) -> None:
            super().__init__(Tiny, None, PARQUET)

        def encode(self, ctx: Any, structured_dataset: Any, structured_dataset_type: Any) -> Any:
            raise NotImplementedError

    StructuredDatasetTransformerEngine.register(TinyEncoder())
    with pytest.raises(DuplicateHandlerError, match=r"\(Tiny, 'generic protocol', 'parquet'\).*override=True"):
        StructuredDatasetTransformerEngine.register(TinyEncoder())
    replacement = TinyEncoder()
    StructuredDatasetTransformerEngine.register(replacement, override=True)
    assert StructuredDatasetTransformerEngine.get_encoder(Tiny) is replacement


def test_reading_as_a_class_without_a_decoder_says_so() -> None:
    class Grid:
        pass

    sd = StructuredDataset(dataframe=pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match=r"no StructuredDatasetDecoder for \(Grid, 'file', 'parquet'\)"):
        sd.open(Grid).all()


def test_a_value_that_is_no_table_is_refused_where_a_dataset_is_declared() -> None:
    @task
    def wrong() -> StructuredDataset:
        return [1, 2, 3]  # type: ignore[return-value]

    with pytest.raises(plait.TypeMismatchError, match=r"output `o0` is declared `StructuredDataset`.*list"):
        wrong()


def test_frames_and_datasets_bind_to_each_other_but_not_to_other_types() -> None:
    assert is_assignable(pd.DataFrame, StructuredDataset)
    assert is_assignable(StructuredDataset, pa.Table)
    assert is_assignable(Annotated[StructuredDataset, kwtypes(a=int)], pd.DataFrame)
    assert not is_assignable(StructuredDataset, int)

    @task
    def count(n: int) -> int:
        return n

    @task
    def table() -> StructuredDataset:
        return pd.DataFrame({"a": [1]})

    with pytest.raises(plait.TypeMismatchError, match=r"expects input `n: int`.*passes `StructuredDataset`"):
        @workflow
        def bad() -> int:
            return count(n=table())


def test_the_type_spec_names_format_and_columns() -> None:
    assert type_spec(Annotated[StructuredDataset, kwtypes(a=int, b=str), "csv"]) == {
        "kind": "dataframe", "format": "csv", "name": "StructuredDataset", "columns": {"a": "int", "b": "str"}}
    assert type_spec(StructuredDataset)["format"] == PARQUET


def test_the_same_data_has_the_same_hash_and_other_data_another(orders: Any) -> None:
    frame = pd.DataFrame(orders.ORDERS)
    in_memory = StructuredDataset(dataframe=frame)
    stored = orders.load_orders()
    assert value_hash(StructuredDataset, in_memory) == value_hash(StructuredDataset, stored)
    assert value_hash(StructuredDataset, in_memory).startswith("sd:")
    other = StructuredDataset(dataframe=frame.assign(amount=frame["amount"] + 1))
    assert value_hash(StructuredDataset, other) != value_hash(StructuredDataset, in_memory)


def test_a_cached_task_taking_a_dataset_hits_when_the_data_is_the_same(orders: Any) -> None:
    first = execute(orders.cached_total_wf, {})
    second = execute(orders.cached_total_wf, {})
    assert first.nodes["n1"].phase == SUCCEEDED
    assert second.nodes["n1"].phase == CACHE_HIT
    assert second.native() == 80.5


def test_annotated_frame_inputs_read_only_their_columns(orders: Any) -> None:
    @task
    def narrow(t: Annotated[pd.DataFrame, kwtypes(order_id=int)]) -> list[str]:
        return list(t.columns)

    @workflow
    def wf() -> list[str]:
        return narrow(t=orders.load_orders())

    assert wf() == ["order_id"]
    check = checker(Annotated[StructuredDataset, kwtypes(amount=float)])
    view = check(pd.DataFrame({"amount": [1.0], "x": [2]}))
    assert list(view.open(pd.DataFrame).all().columns) == ["amount"]


def test_polars_frames_when_polars_is_installed() -> None:
    pl = pytest.importorskip("polars", reason="polars is not installed here: its handlers are not registered")
    sd = StructuredDataset(dataframe=pl.DataFrame({"a": [1, 2]}))
    assert sd.open(pd.DataFrame).all()["a"].tolist() == [1, 2]


def test_a_decoder_of_the_programs_own_is_given_the_declared_columns() -> None:
    seen: list[list[str]] = []

    class Names:
        pass

    class NamesDecoder(StructuredDatasetDecoder):
        def __init__(self) -> None:
            super().__init__(Names, None, PARQUET)

        def decode(self, ctx: Any, flyte_value: Any, current_task_metadata: Any) -> Any:
            seen.append([c.name for c in current_task_metadata.structured_dataset_type.columns])
            return Names()

    StructuredDatasetTransformerEngine.register(NamesDecoder())

    @task
    def read(sd: Annotated[StructuredDataset, kwtypes(b=str)]) -> bool:
        return isinstance(sd.open(Names).all(), Names)

    assert read(sd=StructuredDataset(dataframe=pd.DataFrame({"a": [1], "b": ["x"]})))
    assert seen == [["b"]]


def test_columns_declared_on_an_output_are_read_downstream() -> None:
    @task
    def produce() -> Annotated[StructuredDataset, kwtypes(b=str)]:
        return pd.DataFrame({"a": [1], "b": ["x"]})

    @task
    def consume(sd: StructuredDataset) -> list[str]:
        return list(sd.open(pd.DataFrame).all().columns)

    @workflow
    def wf() -> list[str]:
        return consume(sd=produce())

    assert wf() == ["b"]


def test_a_dataset_input_is_given_by_path_on_the_command_line(tmp_path: Any) -> None:
    from plait.typesys.text import parse_value

    pd.DataFrame({"a": [1, 2]}).to_csv(tmp_path / "small.csv", index=False)
    sd = parse_value(StructuredDataset, str(tmp_path / "small.csv"))
    assert sd.file_format == "csv" and sd.open(pd.DataFrame).all()["a"].tolist() == [1, 2]
    with pytest.raises(ValueError, match="no such file or folder"):
        parse_value(StructuredDataset, str(tmp_path / "missing.parquet"))

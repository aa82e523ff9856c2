"""Orders passed between tasks as StructuredDatasets, written the way a Flyte user writes them.

Only the imports differ from a flytekit program (`plait` for `flytekit`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Annotated

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from plait import kwtypes, task, workflow
from plait.models import literals
from plait.models.literals import StructuredDatasetMetadata
from plait.models.types import StructuredDatasetType
from plait.types.structured.structured_dataset import (
    CSV,
    PARQUET,
    StructuredDataset,
    StructuredDatasetDecoder,
    StructuredDatasetEncoder,
    StructuredDatasetTransformerEngine,
)

ORDERS = {
    "order_id": [101, 102, 103, 104, 105],
    "region": ["north", "south", "north", "east", "south"],
    "amount": [20.0, 35.5, 12.5, 8.0, 4.5],
    "note": ["gift", "", "rush", "", "gift"],
}

RegionAmounts = Annotated[StructuredDataset, kwtypes(region=str, amount=float)]


@task
def load_orders() -> StructuredDataset:
    return StructuredDataset(dataframe=pd.DataFrame(ORDERS))


@task
def columns_read(orders: RegionAmounts) -> list[str]:
    return list(orders.open(pd.DataFrame).all().columns)


@task
def totals_by_region(orders: RegionAmounts) -> dict[str, float]:
    frame = orders.open(pd.DataFrame).all()
    return {region: float(total) for region, total in frame.groupby("region")["amount"].sum().items()}


@task
def count_orders(orders: pd.DataFrame) -> int:
    return len(orders)


@task
def biggest_order(orders: pa.Table) -> int:
    amounts = orders.column("amount").to_pylist()
    return int(orders.column("order_id")[amounts.index(max(amounts))].as_py())


@task
def gifts_only(orders: pd.DataFrame) -> StructuredDataset:
    return orders[orders["note"] == "gift"].reset_index(drop=True)  # a plain frame where a dataset is declared


@task
def order_ids(orders: StructuredDataset) -> list[int]:
    return [int(i) for i in orders.open(pa.Table).all().column("order_id").to_pylist()]


@task
def as_csv(orders: pd.DataFrame) -> Annotated[StructuredDataset, CSV]:
    return StructuredDataset(dataframe=orders[["order_id", "amount"]])


@task
def csv_file_format(orders: StructuredDataset) -> str:
    return orders.file_format


@task
def csv_amount(orders: pd.DataFrame) -> float:
    return float(orders["amount"].sum())


@task(cache=True, cache_version="1")
def grand_total(orders: StructuredDataset) -> float:
    return float(orders.open(pd.DataFrame).all()["amount"].sum())


@workflow
def orders_wf() -> tuple[list[str], dict[str, float], int, int, list[int], str, float]:
    orders = load_orders()
    csv = as_csv(orders=orders)
    return (
        columns_read(orders=orders),
        totals_by_region(orders=orders),
        count_orders(orders=orders),
        biggest_order(orders=orders),
        order_ids(orders=gifts_only(orders=orders)),
        csv_file_format(orders=csv),
        csv_amount(orders=csv),
    )


@workflow
def cached_total_wf() -> float:
    return grand_total(orders=load_orders())


# ------------------------------------------------------------------ a frame type of the program's own


class Ledger:
    """A program's own table type: rows of (account, balance)."""

    def __init__(self, rows: list[tuple[str, int]]) -> None:
        self.rows = rows


class LedgerEncoder(StructuredDatasetEncoder):
    def __init__(self) -> None:
        super().__init__(Ledger, None, PARQUET)

    def encode(self, ctx, structured_dataset, structured_dataset_type):
        ledger = structured_dataset.dataframe
        table = pa.table({"account": [a for a, _ in ledger.rows], "balance": [b for _, b in ledger.rows]})
        folder = ctx.file_access.get_random_local_directory()
        pq.write_table(table, f"{folder}/00000", row_group_size=2)
        return literals.StructuredDataset(
            uri=folder,
            metadata=StructuredDatasetMetadata(structured_dataset_type=StructuredDatasetType(format=PARQUET)),
        )


class LedgerDecoder(StructuredDatasetDecoder):
    """Reads a ledger two rows at a time: `.iter()` gives the chunks."""

    def __init__(self) -> None:
        super().__init__(Ledger, None, PARQUET)

    def decode(self, ctx, flyte_value, current_task_metadata) -> Generator[Ledger, None, None]:
        parquet = pq.ParquetFile(f"{flyte_value.uri}/00000")
        for group in range(parquet.num_row_groups):
            chunk = parquet.read_row_group(group).to_pydict()
            yield Ledger(list(zip(chunk["account"], chunk["balance"], strict=True)))


StructuredDatasetTransformerEngine.register(LedgerEncoder())
StructuredDatasetTransformerEngine.register(LedgerDecoder())


@task
def open_ledger() -> StructuredDataset:
    return StructuredDataset(dataframe=Ledger([("cash", 10), ("bank", 250), ("card", -40), ("loan", -100),
                                               ("fund", 75)]))


@task
def chunk_sizes(ledger: StructuredDataset) -> list[int]:
    return [len(chunk.rows) for chunk in ledger.open(Ledger).iter()]


@task
def net_balance(ledger: pd.DataFrame) -> int:
    return int(ledger["balance"].sum())


@workflow
def ledger_wf() -> tuple[list[int], int]:
    ledger = open_ledger()
    return chunk_sizes(ledger=ledger), net_balance(ledger=ledger)


@workflow
def orders_table_wf() -> StructuredDataset:
    return load_orders()

"""A plain artifact: every run of `make_table` stores a new version of `CityTable`."""

from typing import Annotated

import pandas as pd
import plait as union
from plait.artifacts import ModelCard

CityTable = union.Artifact(name="city_table")


@union.task
def make_table(rows: int = 3) -> Annotated[pd.DataFrame, CityTable]:
    cities = ["Lyon", "Oslo", "Quito", "Perth"][:rows]
    table = pd.DataFrame({"city": cities, "rank": list(range(1, rows + 1))})
    return CityTable.create_from(table, ModelCard(f"# Cities\n\n{rows} rows"))


@union.workflow
def tables(rows: int = 3) -> pd.DataFrame:
    return make_table(rows=rows)


@union.task
def count_rows(table: pd.DataFrame) -> int:
    return len(table)


@union.workflow
def latest_row_count(table: pd.DataFrame = CityTable.query()) -> int:
    return count_rows(table=table)

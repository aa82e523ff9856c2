"""A DataFrame output with a HashMethod, so that a cached consumer hits the cache."""

import os
from typing import Annotated

import pandas as pd
import plait as union


def log_run(name: str) -> None:
    path = os.environ.get("RUN_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(name + "\n")


def hash_measurements(df: pd.DataFrame) -> str:
    """Only the measurements matter; when they were loaded does not."""
    return str(pd.util.hash_pandas_object(df[["reading"]], index=False).sum())


@union.task
def load_readings(batch: int) -> Annotated[pd.DataFrame, union.HashMethod(hash_measurements)]:
    log_run("load_readings")
    return pd.DataFrame({"reading": [2, 4, 6], "loaded_by_batch": [batch] * 3})


@union.task
def load_readings_unhashed(batch: int) -> pd.DataFrame:
    log_run("load_readings_unhashed")
    return pd.DataFrame({"reading": [2, 4, 6], "loaded_by_batch": [batch] * 3})


@union.task(cache=True)
def scale_readings(df: pd.DataFrame) -> pd.DataFrame:
    log_run("scale_readings")
    return df[["reading"]] * 10


@union.task
def frames_match(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    return bool(left.equals(right))


@union.workflow
def scaled_twice(batch: int) -> bool:
    raw = load_readings(batch=batch)
    first = union.create_node(scale_readings, df=raw)
    second = union.create_node(scale_readings, df=raw)
    first >> second
    return frames_match(left=first.o0, right=second.o0)


@union.workflow
def scaled_once(batch: int) -> pd.DataFrame:
    return scale_readings(df=load_readings(batch=batch))


@union.workflow
def scaled_once_unhashed(batch: int) -> pd.DataFrame:
    return scale_readings(df=load_readings_unhashed(batch=batch))

"""A workflow built on a task registered elsewhere and on a slow task: what tests mock."""

import time

from plait import reference_task, task, workflow


@reference_task(project="flytesnacks", domain="development", name="shared.normalize", version="v3")
def normalize(values: list[float]) -> list[float]:
    ...


@task
def download_prices(ticker: str) -> list[float]:
    time.sleep(30)  # a slow network call that tests do not want to make
    raise ConnectionError(f"no network in tests to fetch {ticker}")


@task
def average(values: list[float]) -> float:
    return sum(values) / len(values)


@workflow
def scaled_average(ticker: str) -> float:
    return average(values=normalize(values=download_prices(ticker=ticker)))


@workflow
def report(ticker: str) -> str:
    return describe_average(value=scaled_average(ticker=ticker))


@task
def describe_average(value: float) -> str:
    return f"average {value:.2f}"

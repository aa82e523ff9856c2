"""A nightly ingest for the lab's browser tests: its subworkflow fails in its second task,
after logging, with a large input (hundreds of rows) in front of that task's log."""

import plait


@plait.task
def load(rows: int) -> list[str]:
    print(f"loading {rows} rows")
    return [f"row {i}: " + "x" * 40 for i in range(rows)]


@plait.task
def parse(lines: list[str]) -> int:
    print(f"parsing {len(lines)} lines")
    print("row 7 has no separator")
    raise ValueError("bad row 7: no separator")


@plait.workflow
def ingest(rows: int) -> int:
    return parse(lines=load(rows=rows))


@plait.task
def publish(count: int) -> str:
    return f"{count} rows"


@plait.workflow
def nightly(rows: int) -> str:
    return publish(count=ingest(rows=rows))

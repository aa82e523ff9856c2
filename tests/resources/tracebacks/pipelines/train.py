import plait

from pipelines.util.checks import check_rate, read_config


@plait.task
def train(rate: float) -> float:
    return check_rate(rate) * 2


@plait.task
def configure(text: str) -> int:
    config = read_config(text)
    return len(config)


@plait.task
def count_rows() -> int:
    return "seven"  # not an int: plait's output check fails, in plait's own frames

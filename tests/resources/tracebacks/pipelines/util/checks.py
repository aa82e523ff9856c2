import json


def check_rate(rate: float) -> float:
    if rate <= 0:
        raise ValueError(f"learning rate must be positive, got {rate}")
    return rate


def read_config(text: str) -> dict:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the training config is not JSON: {text!r}") from exc

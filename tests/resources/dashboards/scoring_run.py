"""A short scoring run whose outputs make a dashboard: a table, a curve and a note."""

import pandas as pd
import plait


@plait.task
def score(weeks: int) -> tuple[pd.DataFrame, list[float], str]:
    frame = pd.DataFrame({"week": list(range(1, weeks + 1)), "signups": [10 * w + 3 for w in range(weeks)]})
    growth = [round(1 + w / 10, 2) for w in range(weeks)]
    return frame, growth, f"## Signups\n{weeks} weeks scored; the last week had {frame.signups.iloc[-1]}."


@plait.workflow
def weekly(weeks: int = 4) -> tuple[pd.DataFrame, list[float], str]:
    return score(weeks=weeks)

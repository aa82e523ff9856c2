"""The command line's live line is a view of the run's `ProgressModel`."""

from __future__ import annotations

import re
from types import SimpleNamespace

from plait.cli.progress import TerminalProgress
from plait.run.progress import ProgressModel


def test_the_line_counts_done_running_and_failed_nodes_of_the_model() -> None:
    model = ProgressModel("wf")
    progress = TerminalProgress(model)
    for path, phase in [("n0", "SUCCEEDED"), ("n1", "CACHE_HIT"), ("n2", "RUNNING"), ("n3", "TIMED_OUT"),
                        ("n4", "SKIPPED")]:
        progress.observe(SimpleNamespace(path=path, phase=phase, entity=f"flows.step_{path}", kind="task"))
    assert model.counts() == {"SUCCEEDED": 1, "CACHE_HIT": 1, "RUNNING": 1, "TIMED_OUT": 1, "SKIPPED": 1}
    assert re.fullmatch(r"3 done, 1 running, 1 failed, \d+(\.\d)? m?s  flows\.step_n2", progress.line())


def test_a_quick_run_shows_nothing(capsys) -> None:
    with TerminalProgress() as progress:
        progress.observe(SimpleNamespace(path="", phase="SUCCEEDED", entity="flows.quick", kind="task"))
    assert capsys.readouterr().err == ""

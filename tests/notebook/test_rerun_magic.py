"""`%plait rerun` in a real kernel: a local execution runs again from chosen nodes, the rest reused."""

from __future__ import annotations

import re

from kernels import Kernel, Reply

CELLS = [
    "calls = []",
    "%%task\ndef step(x: int) -> int:\n    calls.append(x)\n    if x in broken:\n"
    "        raise ValueError(f'step cannot take {x}')\n    return x + 1\n",
    "%%workflow\ndef line(x: int = 0) -> int:\n    return step(x=step(x=step(x=x)))\n",
    "broken = set()",
]


def final_rows(reply: Reply) -> dict[str, str]:
    """Node path -> phase, as the progress widget's rows last said."""
    rows: dict[str, str] = {}
    for state in reply.widget_states().values():
        for path, phase in re.findall(r'data-path="([^"]*)" data-phase="(\w+)"', str(state.get("value", ""))):
            rows[path] = phase
    return rows


def test_rerun_reuses_the_upstream_nodes_of_the_last_run_or_of_a_named_execution(kernel: Kernel) -> None:
    for cell in CELLS:
        kernel.ok(cell)
    assert kernel.ok("%plait run --no-progress line --x 0").value() == "3"
    kernel.ok("calls.clear()")
    again = kernel.ok("%plait rerun --from n2")  # the kernel's last local run
    assert again.value() == "3"
    assert final_rows(again) == {"n0": "REUSED", "n1": "REUSED", "n2": "SUCCEEDED"}
    headers = [s["value"] for s in again.widget_states().values()
               if "plait-progress-header" in s.get("_dom_classes", ())]
    assert headers and "2 reused" in headers[0] and "(re-run of local-" in headers[0]
    assert kernel.ok("calls").value() == "[2]"  # only the chosen node's body ran

    # a failed run: fix the cause, then re-run the error's execution from the failed node
    kernel.ok("broken.add(1)")
    failed = kernel.run("%plait run --no-progress line --x 0")
    assert failed.error["ename"] == "ValueError"
    kernel.ok("import sys; err = sys.last_value; broken.clear(); calls.clear()")
    fixed = kernel.ok("%plait rerun err --from n1 --no-progress --out total\ntotal")
    assert fixed.value() == "3" and "1 reused" in fixed.stdout
    assert kernel.ok("calls").value() == "[1, 2]"

    kernel.ok("calls.clear()")
    assert kernel.ok("%plait rerun --input x=10 --no-progress").value() == "13"
    assert kernel.ok("calls").value() == "[10, 11, 12]"

    unknown = kernel.run("%plait rerun --from n7 --no-progress")
    assert unknown.error["ename"] == "InputError"
    assert "has no node(s) 'n7'; expected paths of its nodes: n0, n1, n2" in unknown.error["evalue"]
    wrong = kernel.run("%plait rerun calls --from n1")
    assert "`calls` is a list, not a local execution" in wrong.error["evalue"]

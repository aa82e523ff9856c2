"""The magics in a real kernel, driven over the Jupyter protocol like a frontend."""

from __future__ import annotations

import json
import re

from kernels import Kernel, Reply

ADD = """%%task
def add(x: int, y: int = 1) -> int:
    return x + y
"""


def is_short(reply: Reply) -> bool:
    """A plait error: one message plus at most a note and the cell line; no frames."""
    tb = "\n".join(reply.error["traceback"])
    return len(reply.error["traceback"]) <= 4 and "site-packages" not in tb and "Traceback" not in tb


def test_a_task_cell_defines_a_callable_task(kernel: Kernel) -> None:
    kernel.ok(ADD)
    assert kernel.ok("add(x=2)").value() == "3"
    assert kernel.ok("type(add).__name__, add.name").value() == "('PythonFunctionTask', '__main__.add')"
    # nothing is displayed when the cell only defines the task
    assert kernel.ok(ADD).outputs == []


def test_options_mirror_the_decorator(kernel: Kernel) -> None:
    kernel.ok(
        "%%task --cache --cache-version 2 --retries 3 --timeout 10m --requests cpu=2,mem=1Gi "
        "--limits gpu=1 --accelerator nvidia-tesla-t4 --env A=1 --env B=two --interruptible "
        "--image python:3.11-slim\n"
        "def train(n: int) -> float:\n    return n / 2\n"
    )
    settings = json.loads(kernel.ok("import json; print(json.dumps(train.to_spec()['settings']))").stdout)
    assert settings["retries"] == 3 and settings["timeout"] == 600
    assert settings["cache"]["version"] == "2"
    assert settings["requests"]["cpu"] == "2" and settings["requests"]["mem"] == "1Gi"
    assert settings["limits"]["gpu"] == "1"
    assert "nvidia-tesla-t4" in json.dumps(settings["accelerator"])
    assert settings["environment"] == {"A": "1", "B": "two"}
    assert settings["interruptible"] is True and settings["container_image"] == "python:3.11-slim"
    assert kernel.ok("train(n=3)").value() == "1.5"


def test_rerunning_an_edited_cell_makes_a_new_version(kernel: Kernel) -> None:
    kernel.ok("%%task --cache\ndef triple(x: int) -> int:\n    return 3 * x\n")
    first = kernel.ok("import plait; v1 = plait.Cache().get_version(triple); s1 = triple.to_spec()['version']; triple(x=2)")
    assert first.value() == "6"
    kernel.ok("%%task --cache\ndef triple(x: int) -> int:\n    return x + x + x + 0\n")
    out = kernel.ok(
        "v2 = plait.Cache().get_version(triple); s2 = triple.to_spec()['version']\n"
        "(v1 != v2, s1 != s2, triple.function.__plait_source__.strip().splitlines()[-1].strip(), triple(x=2))"
    )
    assert out.value() == "(True, True, 'return x + x + x + 0', 6)"


def test_a_redefined_task_reminds_workflows_that_still_use_the_old_one(kernel: Kernel) -> None:
    kernel.ok("%%task\ndef inc(x: int) -> int:\n    return x + 1\n")
    kernel.ok("%%workflow\ndef twice(x: int) -> int:\n    return inc(x=inc(x=x))\n")
    redefined = kernel.ok("%%task\ndef inc(x: int) -> int:\n    return x + 10\n")
    assert "`twice` still calls the previous `inc`; re-run its cell" in redefined.stderr
    run = kernel.ok("%plait run --no-progress twice --x 0")
    assert "`twice` uses an older definition of `inc`" in run.stderr
    assert run.value() == "2"


def test_a_cell_without_a_function_gets_a_short_error(kernel: Kernel) -> None:
    reply = kernel.run("%%task\nx = 1\n")
    assert reply.status == "error" and reply.error["ename"] == "CellError"
    assert "a %%task cell must define exactly one function" in reply.error["evalue"]
    assert "this cell defines none" in reply.error["evalue"]
    assert is_short(reply)


def test_a_cell_with_two_functions_names_both(kernel: Kernel) -> None:
    reply = kernel.run("%%task\ndef a(x: int) -> int:\n    return x\n\ndef b(x: int) -> int:\n    return x\n")
    assert reply.error["ename"] == "CellError"
    assert "this cell defines 2: `a` (line 2), `b` (line 5)" in reply.error["evalue"]
    assert "Move helpers to a plain cell" in reply.error["evalue"]
    assert is_short(reply)


def test_bad_options_get_a_short_error(kernel: Kernel) -> None:
    for line, message in [
        ("--retries lots", "argument --retries: invalid int value: 'lots'"),
        ("--frobnicate", "unrecognized arguments: --frobnicate"),
        ("--requests cpu", "expected NAME=QUANTITY pairs"),
        ("--env NOEQUALS", "--env: expected KEY=VALUE"),
        ("--timeout soon", "timeout expects seconds"),
    ]:
        reply = kernel.run(f"%%task {line}\ndef f(x: int) -> int:\n    return x\n")
        assert reply.status == "error", line
        assert message in reply.error["evalue"], (line, reply.error["evalue"])
        assert is_short(reply), line


def test_syntax_errors_point_at_the_cell_line(kernel: Kernel) -> None:
    reply = kernel.run("%%task\ndef f(x: int) -> int\n    return x\n")
    assert reply.error["ename"] == "CellError"
    assert "invalid syntax" in reply.error["evalue"] and "line 2" in reply.error["evalue"]
    assert is_short(reply)


def test_workflow_compile_errors_point_at_the_offending_line(kernel: Kernel) -> None:
    kernel.ok(ADD)
    reply = kernel.run(
        "%%workflow\ndef wf_bad(a: int) -> int:\n    b = add(x=a)\n    c = add(x=b, y='s')\n    return c\n"
    )
    assert reply.error["ename"] == "TypeMismatchError"
    assert "`__main__.add` expects input `y: int`" in reply.error["evalue"]
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(reply.error["traceback"]))
    assert re.search(r"at Cell In\[\d+\], line 4: c = add\(x=b, y='s'\)", text), text
    assert is_short(reply)
    assert kernel.run("wf_bad").status == "error"  # nothing was bound


def test_dag_emits_the_mime_bundle_with_every_node(kernel: Kernel) -> None:
    kernel.ok(ADD)
    kernel.ok("%%workflow\ndef inner(a: int) -> int:\n    return add(x=add(x=a))\n")
    kernel.ok("%%workflow\ndef outer(a: int) -> int:\n    b = add(x=a)\n    c = inner(a=b)\n    return add(x=c, y=b)\n")
    reply = kernel.ok("%plait dag outer")
    [dag] = reply.displays("application/vnd.plait.dag+json")
    assert [n["label"] for n in dag["nodes"]] == ["add", "inner", "add"]
    assert {(e["source"], e["target"]) for e in dag["edges"]} == {("n0", "n1"), ("n1", "n2"), ("n0", "n2")}
    nested = dag["nodes"][1]
    assert nested["kind"] == "workflow" and len(nested["graph"]["nodes"]) == 2
    assert [n["path"] for n in nested["graph"]["nodes"]] == ["n1-n0", "n1-n1"]
    [svg] = reply.displays("image/svg+xml")
    assert svg.startswith("<svg") and svg.count('class="plait-node"') == 3 + 2  # nodes, inputs, outputs
    [text] = reply.displays("text/plain")
    assert "workflow outer: 3 node(s)" in text


def final_rows(reply: Reply) -> dict[str, str]:
    """Node path -> phase, as the progress widget's row models last said."""
    rows: dict[str, str] = {}
    for state in reply.widget_states().values():
        for path, phase in re.findall(r'data-path="([^"]*)" data-phase="(\w+)"', str(state.get("value", ""))):
            rows[path] = phase
    return rows


def test_run_shows_live_progress_and_returns_the_outputs(kernel: Kernel) -> None:
    kernel.ok(ADD)
    kernel.ok("%%task\ndef slow(x: int) -> int:\n    import time\n    time.sleep(0.3)\n    return x\n")
    kernel.ok("%%workflow\ndef fan(a: int) -> int:\n    return add(x=slow(x=a), y=slow(x=add(x=a)))\n")
    reply = kernel.ok("%plait run fan --a 1")
    assert reply.value() == "3"
    assert final_rows(reply) == {"n0": "SUCCEEDED", "n1": "SUCCEEDED", "n2": "SUCCEEDED", "n3": "SUCCEEDED"}
    # while it ran, the model said RUNNING before it said SUCCEEDED (updates were live)
    phases = [m["content"]["data"]["state"].get("value", "") for m in reply.messages
              if m["msg_type"] == "comm_msg" and m["content"]["data"].get("method") == "update"]
    assert any('data-phase="RUNNING"' in p for p in phases)
    headers = [s["value"] for s in reply.widget_states().values() if "plait-progress-header" in s.get("_dom_classes", ())]
    assert headers and "fan: succeeded" in headers[0] and "4 succeeded" in headers[0]
    [widget] = [d for d in reply.displays("application/vnd.jupyter.widget-view+json")][-1:]
    assert widget["model_id"] in reply.widget_states()
    assert kernel.ok("_").value() == "3"
    assert kernel.ok("%plait run --out total fan --a 2\ntotal").value() == "5"


def test_a_failed_run_shows_which_node_failed(kernel: Kernel) -> None:
    kernel.ok("%%task\ndef inverse(x: float) -> float:\n    return 1 / x\n")
    kernel.ok("%%task\ndef to_int(v: float) -> int:\n    return int(v)\n")
    kernel.ok("%%workflow\ndef chain(x: float) -> int:\n    return to_int(v=inverse(x=x))\n")
    reply = kernel.run("%plait run chain --x 0")
    assert reply.error["ename"] == "ZeroDivisionError"
    assert final_rows(reply) == {"n0": "FAILED", "n1": "SKIPPED"}
    tb = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(reply.error["traceback"]))
    assert "return 1 / x" in tb and "plait: in task `__main__.inverse`" in tb
    assert "engine.py" not in tb and "magics.py" not in tb  # only the user's frames


def test_run_parses_inputs_by_type_and_errors_are_short(kernel: Kernel) -> None:
    kernel.ok(ADD)
    kernel.ok("%%workflow\ndef plus(a: int, bs: list[int]) -> int:\n    return add(x=a, y=a)\n")
    reply = kernel.run("%plait run plus --a five --bs '[1]'")
    assert reply.error["ename"] == "CellError" and "input --a expects int, got 'five'" in reply.error["evalue"]
    assert is_short(reply)
    missing = kernel.run("%plait run plus --a 1")
    assert "needs input(s): --bs (list[int])" in missing.error["evalue"]
    undefined = kernel.run("%plait run nowhere")
    assert "`nowhere` is not defined" in undefined.error["evalue"] and is_short(undefined)


def test_remote_commands_say_what_they_need(kernel: Kernel) -> None:
    kernel.ok(ADD)
    reply = kernel.run("%plait launch add --x 1")  # this kernel's PLAIT_HOME names no server
    assert reply.error["ename"] == "ServerError" and is_short(reply)
    assert reply.error["evalue"].startswith("no plait server is running: start one with `plait server`")
    assert "launch" in kernel.ok("%plait help").stdout


def test_dynamic_cells_and_workflow_options(kernel: Kernel) -> None:
    kernel.ok(ADD)
    kernel.ok("%%dynamic\ndef upto(n: int) -> list[int]:\n    return [add(x=i, y=0) for i in range(n)]\n")
    assert kernel.ok("upto(n=3)").value() == "[0, 1, 2]"
    kernel.ok("%%task\ndef cleanup(a: int, err: str) -> None:\n    print('cleaning', a)\n")
    kernel.ok(
        "%%workflow --failure-policy FAIL_AFTER_EXECUTABLE_NODES_COMPLETE --on-failure cleanup\n"
        "def careful(a: int) -> int:\n    return add(x=a)\n"
    )
    assert kernel.ok("careful.failure_policy.value").value() == "'FAIL_AFTER_EXECUTABLE_NODES_COMPLETE'"
    reply = kernel.run("%%workflow --on-failure nothing_here\ndef w(a: int) -> int:\n    return add(x=a)\n")
    assert "`nothing_here` is not defined" in reply.error["evalue"]


def test_a_workflow_may_name_a_task_defined_later(kernel: Kernel) -> None:
    kernel.ok("%%workflow\ndef later(x: int) -> int:\n    return not_yet(x=x)\n")
    reply = kernel.run("%plait run later --x 1")
    assert reply.error["ename"] == "CompileError" and "name 'not_yet' is not defined" in reply.error["evalue"]
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(reply.error["traceback"]))
    assert re.search(r"line 3: return not_yet\(x=x\)", text) and is_short(reply)
    kernel.ok("%%task\ndef not_yet(x: int) -> int:\n    return -x\n")
    assert kernel.ok("%plait run --no-progress later --x 1").value() == "-1"


def plain(reply: Reply) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(reply.error["traceback"]))


def test_errors_name_the_cell_by_its_own_execution_count(kernel: Kernel) -> None:
    kernel.ok(ADD)
    bad = kernel.run("%%workflow\ndef mismatched(a: int) -> int:\n    return add(x=a, y='s')\n")
    assert bad.error["ename"] == "TypeMismatchError" and bad.execution_count
    assert f"at Cell In[{bad.execution_count}], line 3: return add(x=a, y='s')" in plain(bad)

    defined = kernel.ok("%%task\ndef reciprocal(x: float) -> float:\n    y = x\n    return 1 / y\n")
    kernel.ok("%%workflow\ndef recip_wf(x: float) -> float:\n    return reciprocal(x=x)\n")
    failed = kernel.run("%plait run --no-progress recip_wf --x 0")
    assert failed.error["ename"] == "ZeroDivisionError"
    text = plain(failed)
    # the task's frame is the cell that defined it, not the one that ran it nor the next one
    assert f"Cell In[{defined.execution_count}], line 4" in text, text
    assert f"Cell In[{defined.execution_count + 1}]" not in text, text

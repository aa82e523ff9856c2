"""`%plait launch | executions | logs | outputs`: remote runs from a notebook.

`launch` registers what the entity uses (tasks defined in cells travel by
value, cloudpickled with their `__plait_source__`), starts an execution on
the backend that `plait.remote.Remote` finds, and follows it with a `Watch`:
one poll reads the execution and its nodes into the same `ProgressModel` a
local run fills, and the new text of each started node's log into the cell
as whole lines (`[n0 train] epoch 1 ...`), after a line naming the worker pool
the node runs in (`[n0 train] --- pool gpu ---`). Polls back off from 0.2 s to 2 s
while nothing changes and stop when the execution has ended and its logs
were read to the end.

With `--wait` the cell follows the run and returns its outputs (as `%plait
run` does); without it the watch runs in a thread, the logs land in an
Output widget under the progress view, and the cell returns the
`RemoteExecution` at once. A Python version mismatch between the kernel and
the workers is refused by the server when the code is registered, before
anything runs; the refusal shows as one line.

`Watch` knows nothing of IPython: it takes a write function for the log text.
"""

from __future__ import annotations

import contextvars
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from ..model.times import duration_text, parse_time, time_column
from ..model.vocab import FAILURES, NODE_ENDED
from ..run.progress import ProgressModel, Row, planned_rows
from .cells import CellError
from .commands import LAUNCH, Options, parse_line, read_inputs, warn_stale
from .progress import show_progress

FIRST_POLL_S = 0.2  # the first polls, to show the start quickly
CHANGED_POLL_S = 0.5  # after a poll that saw something new
MAX_POLL_S = 2.0  # the slowest poll while nothing changes
MAX_LOG_NODES = 50  # nodes whose logs stream into the cell; the rest are read with `%plait logs`

LAUNCH_HELP = """\
%plait launch WF --input value ... [OPTIONS]
  Register WF with what it uses (tasks defined in cells travel by value) and run it on the
  plait backend, showing node status and streaming the nodes' logs into this cell.
  Options go before WF or after its inputs (an input of the same name wins after WF):
    --wait              follow the run in this cell and return its outputs
    --out NAME          bind the outputs to NAME when the run succeeds
    --name EXEC         name of the execution          --overwrite-cache
    --max-parallelism N --env KEY=VALUE (repeatable)   --project P  --domain D
    --no-progress       no status widget                --no-logs    do not stream logs
  %plait launch WF --help lists WF's inputs.
"""


# ------------------------------------------------------------------ the client


_CLIENTS: dict[tuple[str, str], Any] = {}


def client(project: str = "default", domain: str = "development") -> Any:
    """One `Remote` per project and domain for this kernel, renewed when the server moves.

    Keeping it keeps its record of what was registered, so launching the
    same objects again uploads nothing. Unlike `plait run --remote`, a kernel
    never starts a server of its own (it would outlive the kernel unseen):
    without one, the commands say how to start it.
    """
    from ..remote import Remote, discover

    key = (project, domain)
    found = _CLIENTS.get(key)
    if found is not None:
        endpoint = discover().endpoint
        if endpoint is None or endpoint == found.connection.endpoint:
            return found
        found.close()
    _CLIENTS[key] = Remote(project=project, domain=domain, autostart=False)
    return _CLIENTS[key]


# ------------------------------------------------------------------ following an execution


def timestamp(value: Any) -> float | None:
    """An API time (ISO 8601, `Z` for UTC) as seconds since the epoch."""
    stamp = parse_time(value)
    return None if stamp is None else stamp.timestamp()


@dataclass(frozen=True)
class NodeView:
    """A `RemoteNode` as `ProgressModel.observe` reads it (times on the `time.time` clock)."""

    path: str
    entity: str
    kind: str
    phase: str
    attempts: int
    started: float | None
    ended: float | None
    error: str | None

    @classmethod
    def of(cls, node: Any) -> NodeView:
        from ..remote import error_text

        return cls(node.path, node.entity, node.kind, node.phase, len(node.attempts),
                   timestamp(node.record.get("started_at")), timestamp(node.record.get("ended_at")),
                   error_text(node.error) or None)


def remote_rows(entity: Any) -> list[Row]:
    """The rows a run of `entity` will have; a task runs on the backend as node `n0`."""
    rows = planned_rows(entity)
    if len(rows) == 1 and rows[0].path == "":
        rows[0].path = "n0"
    return rows


@dataclass
class LogTail:
    """How far one node's log was read, and the end of a line not written yet."""

    prefix: str
    attempt: int | None = None
    offset: int = 0
    partial: str = ""
    finished: bool = False
    pool: str | None = None  # the pool of the attempt being read, once said


class Watch:
    """Follows one execution: node phases into `model`, new log lines to `write`."""

    def __init__(self, run: Any, model: ProgressModel, write: Callable[[str], None], *,
                 logs: bool = True, max_log_nodes: int = MAX_LOG_NODES) -> None:
        self.run = run  # a plait.remote.RemoteExecution
        self.model = model
        self.write = write
        self.logs = logs
        self.max_log_nodes = max_log_nodes
        self.done = False
        self.tails: dict[str, LogTail] = {}
        self._seen: dict[str, NodeView] = {}
        self._skipped = 0

    def follow(self, stop: threading.Event | None = None) -> None:
        """Poll until the execution ended and its logs were read (or `stop` is set).

        Polls come every 0.2 s at first, at most every 0.5 s while nodes or
        logs change, and slow down to every 2 s while nothing does.
        """
        delay = FIRST_POLL_S
        while True:
            changed = self.poll()
            if self.done or (stop is not None and stop.is_set()):
                return
            delay = min(delay * 1.5, CHANGED_POLL_S if changed else MAX_POLL_S)
            time.sleep(delay)

    def poll(self) -> bool:
        """One look at the execution; whether anything new was seen."""
        ended = self.run.refresh().is_done  # before the nodes: once ended, they are final
        nodes = self.run.nodes()
        changed = False
        for node in nodes:
            view = NodeView.of(node)
            if self._seen.get(node.path) != view:
                self._seen[node.path] = view
                self.model.observe(view)
                changed = True
        if self.logs:
            for node in nodes:
                changed = self._read_log(node) or changed
        if ended:
            for tail in self.tails.values():
                self._flush(tail)
            if self._skipped:
                self.write(f"(logs of {self._skipped} more node(s) were not streamed; "
                           f"`%plait logs {self.run.id} NODE` shows one)\n")
            self.model.finish(self.run.phase)
            self.done = True
        return changed

    def _read_log(self, node: Any) -> bool:
        if node.kind == "workflow" or node.phase == "QUEUED" or not node.attempts:
            return False  # a sub-workflow's children have the logs; nothing ran yet
        tail = self.tails.get(node.path)
        if tail is None:
            if len(self.tails) >= self.max_log_nodes:
                self._skipped += 1
                self.tails[node.path] = LogTail("", finished=True)
                return False
            short = node.entity.rsplit(".", 1)[-1]
            tail = self.tails[node.path] = LogTail(f"[{node.path} {short}] ")
        if tail.finished:
            return False
        numbers = sorted(int(a.get("number") or 0) for a in node.attempts)
        pools = {int(a.get("number") or 0): a.get("pool") for a in node.attempts}
        changed = False
        if tail.attempt is None:
            tail.attempt = numbers[0]  # from the first attempt, even when the watch starts late
            if pools.get(tail.attempt):
                tail.pool = str(pools[tail.attempt])
                self.write(f"{tail.prefix}--- pool {tail.pool} ---\n")
                changed = True
        while True:
            chunk = self.run.log_chunk(node.path, tail.attempt, tail.offset)
            text = str(chunk.get("text") or "")
            nxt = int(chunk.get("next_offset", tail.offset))
            if text:
                self._lines(tail, text)
                changed = True
            if nxt > tail.offset:
                tail.offset = nxt
                continue
            later = [n for n in numbers if n > tail.attempt]
            if not later:
                break
            self._flush(tail)  # a retry started: the earlier attempt was read to its end
            tail.attempt, tail.offset = later[0], 0
            pool = pools.get(tail.attempt)
            moved = f", pool {pool}" if pool and pool != tail.pool else ""  # said when it changes
            tail.pool = str(pool) if pool else tail.pool
            self.write(f"{tail.prefix}--- attempt {tail.attempt}{moved} ---\n")
            changed = True
        if chunk.get("complete") and node.phase in NODE_ENDED:
            self._flush(tail)
            tail.finished = True
        return changed

    def _lines(self, tail: LogTail, text: str) -> None:
        *whole, tail.partial = (tail.partial + text).split("\n")
        if whole:
            self.write("".join(f"{tail.prefix}{line}\n" for line in whole))

    def _flush(self, tail: LogTail) -> None:
        if tail.partial:
            self.write(f"{tail.prefix}{tail.partial}\n")
            tail.partial = ""


# ------------------------------------------------------------------ %plait launch


def launch(shell: Any, args: list[str]) -> Any:
    """`%plait launch WF --a 1 [--wait] [--out NAME]`: run WF on the backend, followed live."""
    from ..remote import RemoteUserError

    if not args or args[0] in ("-h", "--help"):
        print(LAUNCH_HELP)
        return None
    opts, name, entity, words = parse_line(LAUNCH, shell, args)
    if opts.out and not opts.wait and not opts.progress:
        raise CellError("%plait launch --out without --wait binds the outputs from the status view; "
                        "drop --no-progress, or add --wait")
    inputs = read_inputs(LAUNCH, name, entity, words)
    if inputs is None:  # its help was asked for
        return None
    warn_stale(shell, name, entity)
    remote = client(opts.project, opts.domain)
    try:
        run = remote.execute(
            entity, inputs, name=opts.name, overwrite_cache=opts.overwrite_cache,
            max_parallelism=opts.max_parallelism, envs=opts.envs or None,
        )
    except RemoteUserError as exc:  # e.g. the workers' Python differs from this kernel's
        raise RemoteUserError(f"%plait launch {name}: {exc}", status=exc.status, detail=exc.detail) from None
    _show_header(run, remote)
    model = ProgressModel(entity.short_name, remote_rows(entity), clock=time.time)
    model.started = timestamp(run.record.get("created_at")) or model.started
    view = show_progress(model) if opts.progress else None
    if opts.wait:
        return _follow_here(shell, run, entity, model, view, opts)
    if view is None:
        print(f"execution {run.id} launched; `%plait outputs {run.id}` once it ends, "
              f"`%plait logs {run.id} NODE` for a node's log")
        return run
    _follow_behind(shell, run, entity, model, view, opts)
    return run


def _show_header(run: Any, remote: Any) -> None:
    from IPython.display import display

    where = remote.endpoint
    text = f"execution {run.id} of {run.entity_name} on {where}"
    # The lab extension turns elements with data-plait-execution into links to its panel.
    html = (f'<div class="plait-execution" style="font-family:sans-serif;font-size:13px">execution '
            f'<code data-plait-execution="{escape(run.id)}" data-plait-endpoint="{escape(where)}">'
            f"{escape(run.id)}</code> of <code>{escape(run.entity_name)}</code> on {escape(where)}</div>")
    display({"text/plain": text, "text/html": html}, raw=True)


def _write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _follow_here(shell: Any, run: Any, entity: Any, model: ProgressModel, view: Any,
                 opts: Options) -> Any:
    """`--wait`: follow in the cell, logs as its output; the outputs when it succeeds."""
    from ..run.engine import native_outputs

    watch = Watch(run, model, _write_stdout, logs=opts.logs)
    try:
        watch.follow()
    except KeyboardInterrupt:
        print(f"stopped watching; execution {run.id} keeps running on the server: "
              f"`%plait outputs {run.id}` once it ends", file=sys.stderr)
        raise
    finally:
        if view is not None:
            view.close()
        elif opts.progress:
            print(model.text())
    failure = _failure(run)
    if failure is not None:
        raise failure
    value = native_outputs(entity.interface, run.outputs)
    if opts.out:
        shell.user_ns[opts.out] = value
    return value


def _follow_behind(shell: Any, run: Any, entity: Any, model: ProgressModel, view: Any,
                   opts: Options) -> None:
    """No `--wait`: follow in a thread; logs and the end in an Output widget under the view."""
    import ipywidgets as w
    from IPython.display import display

    from ..run.engine import native_outputs

    out = w.Output(layout=w.Layout(max_height="320px", overflow_y="auto"))
    display(out)
    watch = Watch(run, model, out.append_stdout, logs=opts.logs)

    def follow() -> None:
        try:
            watch.follow()
            failure = _failure(run)
            if failure is not None:
                out.append_stderr(f"{failure}\n")
            elif opts.out:
                shell.user_ns[opts.out] = native_outputs(entity.interface, run.outputs)
                out.append_stdout(f"outputs of {run.id} bound to `{opts.out}`\n")
        except Exception as exc:  # noqa: BLE001 - shown where the user looks, not lost in a thread
            out.append_stderr(f"stopped watching execution {run.id}: {type(exc).__name__}: {exc}\n")
        finally:
            view.close()

    ctx = contextvars.copy_context()  # this cell's parent header, for the widgets' messages
    threading.Thread(target=ctx.run, args=(follow,), name=f"plait-watch-{run.id}", daemon=True).start()


def _failure(run: Any) -> Any:
    """None if `run` succeeded, else an `ExecutionFailed` that names the failed node and its log."""
    from ..remote import ExecutionFailed, error_text

    if run.phase == "SUCCEEDED":
        return None
    failed = [n for n in run.nodes() if n.phase in FAILURES]
    node = f"`%plait logs {run.id} {failed[0].path}`" if failed else f"`%plait logs {run.id} NODE`"
    detail = error_text(run.error) or "; ".join(f"{n.path}: {error_text(n.error)}" for n in failed)
    return ExecutionFailed(
        f"execution {run.id} {run.phase}" + (f": {detail}" if detail else "") + f"; {node} shows its log",
        execution_id=run.id, phase=run.phase, error=run.error,
    )


def rerun(shell: Any, args: list[str]) -> Any:
    """`%plait rerun --remote ID --from NODE [--from NODE] [--input NAME=VALUE] [--wait] [--out NAME]`:
    re-run a backend execution from those nodes, reusing the outputs of the others."""
    from ..remote import RemoteUserError

    found: dict[str, Any] = {"from": [], "input": {}, "wait": False}
    i = 0
    while i < len(args):
        key, eq, value = args[i][2:].partition("=") if args[i].startswith("--") else ("", "", args[i])
        if key == "wait" and not eq:
            found["wait"] = True
        elif key in ("remote", "from", "input", "out", "project", "domain"):
            if not eq:
                if i + 1 >= len(args):
                    raise CellError(f"%plait rerun --{key} needs a value; {REMOTE_RERUN_USAGE}")
                i += 1
                value = args[i]
            if key == "from":
                found["from"].append(value)
            elif key == "input":
                name, has, text = value.partition("=")
                if not has or not name:
                    raise CellError(f"%plait rerun --input expects NAME=VALUE, got {value!r}")
                found["input"][name] = _json_or_text(text)
            else:
                found[key] = value
        else:
            raise CellError(f"%plait rerun: unexpected {args[i]!r}; {REMOTE_RERUN_USAGE}")
        i += 1
    if not found["from"]:
        raise CellError(f"%plait rerun: name the node(s) to run again with --from; {REMOTE_RERUN_USAGE}")
    remote = client(found.get("project", "default"), found.get("domain", "development"))
    try:
        run = remote.rerun(found["remote"], found["from"], inputs=found["input"] or None)
    except RemoteUserError as exc:
        raise RemoteUserError(f"%plait rerun --remote {found['remote']}: {exc}", status=exc.status,
                              detail=exc.detail) from None
    _show_header(run, remote)
    if not found["wait"]:
        print(f"execution {run.id} re-runs {found['remote']} from {', '.join(found['from'])}; "
              f"`%plait outputs {run.id}` once it ends")
        return run
    failure = _failure(run.wait())
    if failure is not None:
        raise failure
    reused = sum(n.phase == "REUSED" for n in run.nodes())
    print(f"execution {run.id} SUCCEEDED ({reused} node(s) reused from {found['remote']})")
    outputs = dict(run.outputs)
    if found.get("out"):
        shell.user_ns[found["out"]] = outputs
    return outputs


REMOTE_RERUN_USAGE = ("usage: %plait rerun --remote ID --from NODE [--from NODE ...] [--input NAME=VALUE ...] "
                      "[--wait] [--out NAME]")


def _json_or_text(text: str) -> Any:
    """An `--input` value: JSON when it reads as JSON (numbers, lists, true), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


# ------------------------------------------------------------------ executions, logs, outputs


def _scope_options(command: str, args: list[str], valued: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """`--key value` options among `args` (only those in `valued`) and the other words."""
    found: dict[str, str] = {}
    words: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            words.append(arg)
            i += 1
            continue
        key, eq, value = arg[2:].partition("=")
        if key not in valued:
            raise CellError(f"%plait {command}: unknown option {arg}; options: "
                            + ", ".join(f"--{v}" for v in valued))
        if not eq:
            if i + 1 >= len(args):
                raise CellError(f"%plait {command} --{key} needs a value")
            value, i = args[i + 1], i + 1
        found[key] = value
        i += 1
    return found, words


def _client_for(found: dict[str, str]) -> Any:
    return client(found.get("project", "default"), found.get("domain", "development"))


def executions(shell: Any, args: list[str]) -> None:
    """`%plait executions [WF] [--limit N] [--phase P]`: recent executions, newest first."""
    from IPython.display import display

    from ..sdk.entity import Entity

    found, words = _scope_options("executions", args, ("limit", "phase", "project", "domain"))
    if len(words) > 1:
        raise CellError("usage: %plait executions [WF] [--limit N] [--phase PHASE]")
    name = None
    if words:
        value = shell.user_ns.get(words[0])
        name = value.name if isinstance(value, Entity) else words[0]
    limit = found.get("limit", "20")
    if not limit.isdigit() or int(limit) < 1:
        raise CellError(f"%plait executions --limit expects a whole number >= 1, got {limit!r}")
    phase = found["phase"].upper() if "phase" in found else None
    runs = _client_for(found).list_executions(name=name, phase=phase, limit=int(limit))
    # Times in the kernel's zone, named: the same run reads alike here and in `plait get executions`.
    zone, started = time_column([r.record.get("started_at") or r.record.get("created_at") for r in runs])
    columns = ["ID", "ENTITY", "PHASE", f"STARTED ({zone})" if zone else "STARTED", "DURATION"]
    rows = [[r.id, r.entity_name, r.phase, when, duration_text(r.duration_s)]
            for r, when in zip(runs, started, strict=True)]
    display(table(columns, rows, empty="no executions yet"), raw=True)


def table(columns: list[str], rows: list[list[str]], empty: str) -> dict[str, str]:
    """A MIME bundle: an HTML table and the same as aligned text."""
    if not rows:
        return {"text/plain": empty, "text/html": f"<i>{escape(empty)}</i>"}
    widths = [max(len(str(v)) for v in col) for col in zip(columns, *rows, strict=True)]
    text = "\n".join("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
                     for r in [columns, *rows])
    head = "".join(f"<th style='text-align:left'>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'><code>{escape(str(v))}</code></td>"
                                    for v in r) + "</tr>" for r in rows)
    return {"text/plain": text, "text/html": f"<table class='plait-executions'><tr>{head}</tr>{body}</table>"}


def logs(shell: Any, args: list[str]) -> None:
    """`%plait logs EXEC [NODE] [--attempt N]`: a node's log, or every node's."""
    found, words = _scope_options("logs", args, ("attempt", "project", "domain"))
    if len(words) not in (1, 2):
        raise CellError("usage: %plait logs EXEC [NODE] [--attempt N]")
    attempt = found.get("attempt")
    if attempt is not None and (not attempt.isdigit() or int(attempt) < 1):
        raise CellError(f"%plait logs --attempt expects a whole number >= 1, got {attempt!r}")
    run = _client_for(found).fetch_execution(words[0])
    if len(words) == 2:
        _write_stdout(run.logs(words[1], attempt=int(attempt) if attempt else None))
        return
    for node in run.nodes():
        if node.kind != "workflow" and node.attempts:
            _write_stdout(f"--- {node.path} {node.entity.rsplit('.', 1)[-1]} ({node.phase}{pool_note(node)}) ---\n")
            text = run.logs(node)
            _write_stdout(text if text.endswith("\n") or not text else text + "\n")


def pool_note(node: Any) -> str:
    """`, pool gpu` for a node whose attempts ran in pool gpu (their pools, when several)."""
    pools = list(dict.fromkeys(str(a["pool"]) for a in node.attempts if a.get("pool")))
    return f", pool {', '.join(pools)}" if pools else ""


def outputs(shell: Any, args: list[str]) -> dict[str, Any]:
    """`%plait outputs EXEC`: the outputs of a succeeded execution, by name, as Python values."""
    found, words = _scope_options("outputs", args, ("project", "domain"))
    if len(words) != 1:
        raise CellError("usage: %plait outputs EXEC")
    return dict(_client_for(found).fetch_execution(words[0]).outputs)

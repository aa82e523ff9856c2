"""Where a local run's gate gets its value: the run's `signals`, else a prompt, else an error.

A notebook's kernel routes `input()` to the notebook's input box; a terminal is
asked with the gate's timeout (`select` on standard input); anywhere else (a
script with no terminal, a test) the run fails and says which signal to pass.
"""

from __future__ import annotations

import sys
from typing import Any

from ..errors import InputError, TaskTimeoutError, UserError
from ..typesys import ValueTypeError, checker, describe

_YES = {"y", "yes", "true", "1", "approve", "approved"}
_NO = {"n", "no", "false", "0", "reject", "rejected", ""}


def _in_kernel() -> bool:
    shell = sys.modules.get("IPython")
    try:
        ip = shell.get_ipython() if shell is not None else None  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - not in IPython
        return False
    return ip is not None and getattr(ip, "kernel", None) is not None


def _prompt(text: str, timeout: float) -> str:
    if _in_kernel():
        return input(text)
    if not (sys.stdin and sys.stdin.isatty()):
        raise EOFError
    import select

    sys.stdout.write(text)
    sys.stdout.flush()
    ready, _, _ = select.select([sys.stdin], [], [], timeout if timeout > 0 else None)
    if not ready:
        raise TaskTimeoutError(f"no answer within {timeout:g} s")
    return sys.stdin.readline().rstrip("\n")


def _parse(gate: Any, text: str) -> Any:
    if gate.gate == "approve":
        word = text.strip().lower()
        if word in _YES:
            return True
        if word in _NO:
            return False
        raise InputError(f"approval `{gate.signal}`: answer yes or no, got {text!r}")
    tp = gate.value_type
    value: Any = text
    if tp in (int, float, bool):
        import json

        try:
            value = json.loads(text.strip().lower() if tp is bool else text)
        except ValueError:
            raise InputError(f"signal `{gate.signal}` expects {describe(tp)}, got {text!r}") from None
    return value


def signal_value(exe: Any, gate: Any, inputs: dict[str, Any]) -> Any:
    """The value of gate `gate`'s signal for this run, checked against its type."""
    given = getattr(exe, "signals", {}) or {}
    tp = bool if gate.gate == "approve" else gate.value_type
    if gate.signal in given:
        value = given[gate.signal]
    else:
        question = (f"approve `{gate.signal}` ({inputs.get('upstream')!r:.60})? [y/N] " if gate.gate == "approve"
                    else f"value for `{gate.signal}` ({describe(tp)}): ")
        try:
            value = _parse(gate, _prompt(question, gate.seconds))
        except EOFError:
            raise InputError(
                f"the workflow waits for signal `{gate.signal}` ({describe(tp)}) and nothing can ask "
                f"for it here; pass it with the run: execute(wf, inputs, signals={{{gate.signal!r}: ...}})"
            ) from None
        except TaskTimeoutError:
            raise UserError(
                f"gate `{gate.signal}` timed out after {gate.seconds:g} s: no value was given"
            ) from None
    try:
        return checker(tp)(value)
    except ValueTypeError as exc:
        raise InputError(
            f"signal `{gate.signal}` expects {describe(tp)}, got {value!r} of type `{exc.found}`"
        ) from None

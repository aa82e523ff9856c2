"""Value refs in the control plane: bindings, literal normalisation, hashes, conditions.

The executor never unpickles: it combines and forwards refs, compares
literals for conditions, and hashes literals the way the local engine hashes
the Python values (`plait.typesys.literal_hash`), so cache keys agree.
"""

from __future__ import annotations

from typing import Any

from plait.errors import UserError
from plait.model.keys import literal_hash
from plait.model.vocab import COMPARISONS as _OPS


def normalize(type_spec: dict[str, Any] | None, lit: Any) -> Any:
    """A literal in the form the worker's type check would give it (ints for floats become floats)."""
    if type_spec is None or lit is None:
        return lit
    kind = type_spec.get("kind")
    if kind == "float" and isinstance(lit, int) and not isinstance(lit, bool):
        return float(lit)
    if kind == "optional":
        return normalize(type_spec.get("of"), lit)
    if kind == "list" and isinstance(lit, list):
        return [normalize(type_spec.get("of"), v) for v in lit]
    if kind == "dict" and isinstance(lit, dict):
        return {k: normalize(type_spec.get("value"), v) for k, v in lit.items()}
    return lit


def literal_ref(lit: Any, type_spec: dict[str, Any] | None = None) -> dict[str, Any]:
    lit = normalize(type_spec, lit)
    return {"literal": lit, "hash": literal_hash(lit)}


def ref_hash(ref: dict[str, Any]) -> str:
    """The hash of the value a ref stands for (as the local engine would compute it)."""
    if "hash" in ref and "path" not in ref:
        return str(ref["hash"])
    if "literal" in ref:
        return literal_hash(navigate(ref["literal"], ref.get("path", ())))
    if "collection" in ref:
        parts = [ref_hash(r) for r in ref["collection"]]
        if all("literal" in r for r in ref["collection"]):
            return literal_hash([navigate(r["literal"], r.get("path", ())) for r in ref["collection"]])
        return "c:" + literal_hash(parts)
    if "mapping" in ref:
        return "m:" + literal_hash({k: ref_hash(r) for k, r in ref["mapping"].items()})
    return f"{ref.get('hash')}:{ref.get('path')}"


def navigate(value: Any, path: Any) -> Any:
    for step in path or ():
        value = value[step]
    return value


def at_path(ref: dict[str, Any], path: list[Any]) -> dict[str, Any]:
    """A ref to part of a value (a NamedTuple field, a list item, a dict key)."""
    if not path:
        return ref
    if "literal" in ref:
        lit = navigate(ref["literal"], path)
        return {"literal": lit, "hash": literal_hash(lit)}
    return {**ref, "path": [*ref.get("path", []), *path]}


def combine_list(refs: list[dict[str, Any]]) -> dict[str, Any]:
    if all("literal" in r and "path" not in r for r in refs):
        lit = [r["literal"] for r in refs]
        return {"literal": lit, "hash": literal_hash(lit)}
    return {"collection": refs}


def combine_dict(refs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if all("literal" in r and "path" not in r for r in refs.values()):
        lit = {k: r["literal"] for k, r in refs.items()}
        return {"literal": lit, "hash": literal_hash(lit)}
    return {"mapping": refs}


def resolve(binding: dict[str, Any], lookup: Any) -> dict[str, Any]:
    """A binding spec as a value ref; `lookup(node_id, output)` gives a node's output ref
    (node_id None: a workflow input)."""
    if "ref" in binding:
        r = binding["ref"]
        return at_path(lookup(r["node"], r["output"]), list(r.get("path", [])))
    if "literal" in binding:
        return literal_ref(binding["literal"])
    if "value" in binding:
        return dict(binding["value"])
    if "list" in binding:
        return combine_list([resolve(b, lookup) for b in binding["list"]])
    if "dict" in binding:
        return combine_dict({k: resolve(b, lookup) for k, b in binding["dict"].items()})
    raise UserError(f"unknown binding in spec: {sorted(binding)}")


def items_of(ref: dict[str, Any]) -> list[dict[str, Any]]:
    """The elements of a list value, as refs (for map fan-out)."""
    if "literal" in ref:
        lit = navigate(ref["literal"], ref.get("path", ()))
        if not isinstance(lit, list):
            raise UserError(f"map expects a list, got {type(lit).__name__}")
        return [{"literal": v, "hash": literal_hash(v)} for v in lit]
    if "collection" in ref and "path" not in ref:
        return list(ref["collection"])
    raise UserError(
        "map over a list stored as a pickle is not supported; return the list as plain values "
        "(ints, floats, strings, lists, dicts) from the upstream task"
    )


def condition_holds(cond: dict[str, Any], lookup: Any) -> bool:
    if cond["op"] in ("and", "or"):
        left = condition_holds(cond["left"], lookup)
        if cond["op"] == "and":
            return left and condition_holds(cond["right"], lookup)
        return left or condition_holds(cond["right"], lookup)

    def operand(b: dict[str, Any]) -> Any:
        ref = resolve(b, lookup)
        if "literal" not in ref:
            raise UserError(
                "a conditional compares a value that is stored as a pickle; compare plain "
                "values (numbers, strings, booleans) or compute the boolean in a task"
            )
        return ref["literal"]

    return bool(_OPS[cond["op"]](operand(cond["left"]), operand(cond["right"])))

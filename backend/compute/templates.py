"""A pool's pod template merged into the pod spec plait generates for its workers.

The rules are Flyte's for a task's pod template, stated here once:

- The template is the base; what plait generates (image, command, resources,
  the node selector of an accelerator, ...) wins where both set one value.
- Mappings merge key by key (`nodeSelector`, `securityContext`, `resources`).
- Containers merge by name: the template's container named like the pool's
  `primary_container_name` (default `primary`) or like the worker's own
  container (`worker`) is merged into the worker's container; its other
  containers are added as they are (sidecars). `initContainers` likewise.
- Lists of named things merge by their key (`env`, `volumes`, `ports`,
  `imagePullSecrets` by name, `volumeMounts` by mount path); other lists
  (`tolerations`, `args` of a sidecar) are the template's items followed by
  the generated ones, without repeats.
- Required node affinity terms are alternatives (Kubernetes ORs them), so the
  template's terms and the generated ones are combined pairwise: a node must
  satisfy both, as it must satisfy both node selectors.
"""

from __future__ import annotations

import copy
from typing import Any

_KEYED = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
          "ports": "containerPort", "imagePullSecrets": "name", "volumeMounts": "mountPath"}
_TERMS = ("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")


def merge_pod_spec(template: dict[str, Any] | None, generated: dict[str, Any], *,
                   primary: str = "primary", container: str = "worker") -> dict[str, Any]:
    """`generated` with `template` merged in (neither is changed)."""
    if not template:
        return copy.deepcopy(generated)
    template = copy.deepcopy(template)
    for key in ("containers", "initContainers"):
        for item in template.get(key) or []:
            if item.get("name") == primary:
                item["name"] = container
    terms = _combined_terms(template, generated)
    merged = _merge(template, generated)
    if terms is not None:
        node = merged
        for key in _TERMS[:-1]:
            node = node[key]
        node[_TERMS[-1]] = terms
    return merged


def _merge(base: Any, over: Any, key: str | None = None) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for name, value in over.items():
            out[name] = _merge(base[name], value, name) if name in base else copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(over, list):
        field = _KEYED.get(key or "")
        if field is not None and all(isinstance(i, dict) and field in i for i in base + over):
            merged = {item[field]: item for item in base}
            for item in over:
                merged[item[field]] = _merge(merged[item[field]], item, None) if item[field] in merged else item
            return list(merged.values())
        out = list(base)
        out += [item for item in over if item not in base]
        return out
    return copy.deepcopy(over)


def _combined_terms(template: dict[str, Any], generated: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Each template term with each generated term (their expressions ANDed), when both have some."""
    mine, theirs = _terms(generated), _terms(template)
    if not mine or not theirs:
        return None
    return [{kind: [*t.get(kind, []), *g.get(kind, [])] for kind in ("matchExpressions", "matchFields")
             if t.get(kind) or g.get(kind)} for t in theirs for g in mine]


def _terms(spec: dict[str, Any]) -> list[dict[str, Any]]:
    node: Any = spec
    for key in _TERMS:
        node = node.get(key) if isinstance(node, dict) else None
    return list(node or [])

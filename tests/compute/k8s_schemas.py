"""Offline validation of generated Kubernetes resources, without a Kubernetes API.

- DaskCluster and DaskWorkerGroup: the openAPIV3Schema of the CRDs shipped inside
  dask-kubernetes (dask_kubernetes/operator/customresources/*.yaml). Their `$ref`s point
  to the operator's templates.yaml and to Kubernetes' own definitions (PodSpec,
  ServiceSpec), which the package resolves at build time; here the templates are
  inlined and Kubernetes' definitions come from kubernetes-validate's schemas.
- Core resources (Deployment, Service, ...): `kubernetes_validate.validate`.

Both use the strict schemas (no field they do not define), of KUBERNETES_VERSION.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from referencing import Registry, Resource

KUBERNETES_VERSION = "1.30.0"
_TEMPLATES = "python://dask_kubernetes/operator/customresources/templates.yaml#/definitions/"
_K8S = "python://k8s_crd_resolver/schemata/k8s-1.21.1.json#/definitions/"
_K8S_DEFS = "https://kubernetes.io/api/_definitions.json"


def _crd_folder() -> Path:
    import dask_kubernetes.operator

    return Path(dask_kubernetes.operator.__file__).parent / "customresources"


@functools.cache
def _k8s_definitions() -> Resource[Any]:
    folder = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    path = folder / f"v{KUBERNETES_VERSION}-local-strict" / "_definitions.json"
    return Resource.from_contents(json.loads(path.read_text()))


def _resolve(node: Any, templates: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_TEMPLATES):
            return _resolve(templates[ref[len(_TEMPLATES):]], templates)
        if isinstance(ref, str) and ref.startswith(_K8S):
            return {"$ref": f"{_K8S_DEFS}#/$defs/{ref[len(_K8S):]}"}
        return {k: _resolve(v, templates) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, templates) for v in node]
    return node


@functools.cache
def crd_validator(kind: str) -> jsonschema.protocols.Validator:
    """A validator of the CRD `kind` (DaskCluster, DaskWorkerGroup) as dask-kubernetes ships it."""
    folder = _crd_folder()
    crd = yaml.safe_load((folder / f"{kind.lower()}.yaml").read_text())
    assert crd["spec"]["names"]["kind"] == kind
    templates = yaml.safe_load((folder / "templates.yaml").read_text())["definitions"]
    schema = _resolve(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"], templates)
    registry: Registry[Any] = _k8s_definitions() @ Registry()
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate(resource: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when `resource` does not fit its schema."""
    kind = resource["kind"]
    if resource["apiVersion"].startswith("kubernetes.dask.org/"):
        crd_validator(kind).validate(resource)
        for field in ("apiVersion", "kind"):
            assert isinstance(resource[field], str)
        assert resource["metadata"]["name"]
    else:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)

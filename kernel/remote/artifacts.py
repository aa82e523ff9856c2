"""`plait.Remote`'s artifact calls: the backend's catalog, with the calls `plait.catalog()` makes locally.

    remote = plait.Remote()
    record = remote.get_artifact(name="model", partitions={"region": "eu"})
    model = record.value()                       # read from the backend

Records are `plait.artifacts.ArtifactRecord`s, as the local catalog answers
them; their `value()` reads through this client: a literal is rebuilt under
the version's type, a pickle in the object store is downloaded and
unpickled (the client trusts what its own tasks produced).
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import pickle
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import quote

from ..artifacts.catalog import (
    ArtifactSummary,
    Lookup,
    artifact_value,
    cut_time,
    lookup,
    no_version_filters,
    not_found,
    parse_uri,
    partition_values,
    record_from_answer,
    time_value,
    value_type,
)
from ..artifacts.store import ArtifactNotFoundError, ArtifactRecord
from ..errors import InputError, TypeMismatchError
from .discovery import API
from .errors import RemoteUserError
from .views import items_of

LITERAL_LIMIT = 64 * 1024  # bigger values travel as pickles, as the workers store outputs


class RemoteInputError(RemoteUserError, InputError):
    """The backend refused a look-up's terms (HTTP 422: a partition key the artifact does not
    have, a malformed value): an InputError, as the local catalog raises for the same mistake."""


class ArtifactMethods:
    """The artifact calls of `plait.Remote` (a mixin: it uses the client's `_json` and `download`)."""

    if TYPE_CHECKING:
        project: str
        domain: str

        def _json(self, method: str, path: str, **kwargs: Any) -> Any: ...

        def download(self, uri: str) -> bytes: ...

    def get_artifact(
        self,
        uri: str | None = None,
        *,
        query: Any = None,
        name: str | None = None,
        version: str | None = None,
        partitions: Mapping[str, Any] | None = None,
        time_partition: Any = None,
    ) -> ArtifactRecord:
        """The latest version matching a uri (`plait://project/domain/name@version`), an
        `Artifact.query(...)` (its `Inputs.x` bindings are filled only by a launch), or a name
        with partitions, time partition and version. Raises ArtifactNotFoundError, with the
        query in words, when none matches."""
        found = lookup(uri, query=query, name=name, version=version, partitions=partitions,
                       time_partition=time_partition)
        scope = self._artifact_scope(found.project, found.domain)
        path = f"{API}/artifacts/{_quoted(found.name)}"
        try:
            if uri is not None:
                data = self._json("GET", f"{path}/versions/{_quoted(found.version or '')}", params=scope)
            else:
                data = self._json("GET", f"{path}/latest", params={
                    **scope, "partition": _partition_params(found.partitions),
                    "time_partition": _iso(found.time_partition), "version": found.version,
                })
        except RemoteUserError as exc:
            if exc.status == 404:
                raise self._not_found(found, scope) from None
            raise _refused(exc) from None
        return record_from_answer(data, BackendValues(self))

    def list_artifacts(
        self,
        name: str | None = None,
        *,
        name_contains: str | None = None,
        partitions: Mapping[str, Any] | None = None,
        time_from: Any = None,
        time_to: Any = None,
        execution: str | None = None,
        limit: int = 100,
    ) -> list[Any]:
        """Without `name`: one `ArtifactSummary` per artifact, the most recently made first. With
        it: its versions (`ArtifactRecord`s), newest first, with these partitions, a time partition
        in [time_from, time_to], made by `execution`."""
        scope = self._artifact_scope(None, None)
        source = BackendValues(self)
        if name is None:
            no_version_filters(partitions, time_from, time_to, execution)
            data = self._json("GET", f"{API}/artifacts",
                              params={**scope, "name_contains": name_contains, "limit": limit})
            return [
                ArtifactSummary(
                    name=str(item["name"]), project=str(item.get("project") or scope["project"]),
                    domain=str(item.get("domain") or scope["domain"]), versions=int(item.get("versions") or 0),
                    partition_keys=tuple(item.get("partition_keys") or ()),
                    time_partitioned=bool(item.get("time_partitioned")),
                    latest=record_from_answer(item["latest"], source),
                )
                for item in items_of(data, "artifacts")
            ]
        wanted = partition_values(name, partitions or {})
        try:
            data = self._json("GET", f"{API}/artifacts/{_quoted(name)}/versions", params={
                **scope, "partition": _partition_params(wanted), "time_from": _iso(time_value(name, time_from)),
                "time_to": _iso(time_value(name, time_to)), "execution": execution, "limit": limit,
            })
        except RemoteUserError as exc:
            raise _refused(exc) from None
        return [record_from_answer(r, source) for r in items_of(data, "versions")]

    def create_artifact(
        self,
        artifact: Any,
        value: Any = None,
        *,
        partitions: Mapping[str, Any] | None = None,
        time_partition: Any = None,
        cards: Iterable[Any] = (),
        python_type: Any = None,
    ) -> ArtifactRecord:
        """Make a new version of `artifact` (a plait.Artifact, or its name) holding `value`, with
        no producer. Plain values (numbers, text, dates, lists and dicts of them) travel as
        literals, anything else as a pickle; `python_type` is the value's annotation (default:
        read from the value)."""
        from ..typesys import ValueTypeError, checker, describe, to_literal, type_spec

        declared, made = artifact_value(artifact, value, partitions, time_partition, cards)
        tp = value_type(value) if python_type is None else python_type
        owner = f"create_artifact({declared.name!r})"
        try:
            checker(tp)(value)
        except ValueTypeError as exc:
            raise TypeMismatchError(f"{owner}: the value is {exc.found}, not the `{describe(tp)}` given as "
                                    "python_type", entity=declared.name, name="value", expected=describe(tp),
                                    found=exc.found) from None
        try:
            spec = dict(type_spec(tp))
        except TypeError:
            spec = {"kind": "pickle"}
        granularity = declared.time_partition_granularity
        body: dict[str, Any] = {
            "name": declared.name, "partitions": made.partitions,
            "time_partition": cut_time(declared, made.time_partition),
            "granularity": granularity.value if granularity and made.time_partition is not None else None,
            "type": spec, "cards": [c.to_spec() for c in made.cards],
        }
        literal = _plain_literal(value, tp, to_literal)
        if literal is not None:
            body["literal"] = literal
        else:
            body["pickle_b64"] = base64.b64encode(_pickled(owner, value)).decode("ascii")
        body.update(self._artifact_scope(declared.project, declared.domain))
        try:
            data = self._json("POST", f"{API}/artifacts", json_body={k: v for k, v in body.items() if v is not None})
        except RemoteUserError as exc:
            raise _refused(exc) from None
        return record_from_answer(data, BackendValues(self))

    def artifact_lineage(self, record_or_uri: ArtifactRecord | str, depth: int = 2) -> dict[str, Any]:
        """`{nodes, edges}`: the executions that produced and consumed the version, and the
        versions those read and made, `depth` artifact-to-artifact steps each way (1 to 5)."""
        if isinstance(record_or_uri, ArtifactRecord):
            project, domain = record_or_uri.project, record_or_uri.domain
            name, version = record_or_uri.name, record_or_uri.version
        else:
            found_project, found_domain, name, version = parse_uri(record_or_uri)
            project, domain = found_project or self.project, found_domain or self.domain
        try:
            data = self._json("GET", f"{API}/artifacts/{_quoted(name)}/versions/{_quoted(version)}/lineage",
                              params={"project": project, "domain": domain, "depth": depth})
        except RemoteUserError as exc:
            if exc.status == 404:
                raise ArtifactNotFoundError(
                    f"artifact `{name}` has no version `{version}` in {project}/{domain} on the backend; "
                    f"list its versions with list_artifacts({name!r})"
                ) from None
            raise
        return {"nodes": list(data.get("nodes") or []), "edges": list(data.get("edges") or [])}

    # --- helpers ---------------------------------------------------------------

    def _artifact_scope(self, project: str | None, domain: str | None) -> dict[str, str]:
        return {"project": project or self.project, "domain": domain or self.domain}

    def _not_found(self, found: Lookup, scope: dict[str, str]) -> ArtifactNotFoundError:
        return not_found(found, f"in {scope['project']}/{scope['domain']} on the backend")


class BackendValues:
    """Where the value of a backend record comes from: its value ref, read through the client."""

    def __init__(self, remote: Any) -> None:
        self.remote = remote

    def load(self, record: ArtifactRecord) -> Any:
        ref = record.value_ref
        if not isinstance(ref, dict):
            raise ArtifactNotFoundError(f"artifact `{record.name}` version {record.version}: the backend "
                                        "answered it without a value")
        return self._value(ref, annotation(record.type))

    def _value(self, ref: dict[str, Any], tp: Any) -> Any:
        from ..typesys import from_literal

        if "literal" in ref:
            value = from_literal(tp, ref["literal"])
        elif "uri" in ref:
            value = pickle.loads(self.remote.download(ref["uri"]))  # noqa: S301 - our own tasks' outputs
        elif "collection" in ref:
            value = [self._value(r, Any) for r in ref["collection"]]
        elif "mapping" in ref:
            value = {k: self._value(r, Any) for k, r in ref["mapping"].items()}
        else:
            raise ArtifactNotFoundError(f"an artifact value ref of an unknown shape: {sorted(ref)}")
        for step in ref.get("path", ()):
            value = value[step] if isinstance(step, int) or isinstance(value, dict) else getattr(value, step)
        return value


def _refused(exc: RemoteUserError) -> RemoteUserError:
    """A 422 as a RemoteInputError (what the local catalog raises as InputError); others as they came."""
    if exc.status == 422 and not isinstance(exc, RemoteInputError):
        return RemoteInputError(str(exc), status=exc.status, detail=exc.detail)
    return exc


_SCALARS: dict[str, Any] = {
    "integer": int, "int": int, "float": float, "boolean": bool, "bool": bool, "string": str, "str": str,
    "bytes": bytes, "datetime": _dt.datetime, "date": _dt.date, "duration": _dt.timedelta,
    "none": type(None),
}


def annotation(spec: Any) -> Any:
    """The annotation a literal is rebuilt under: scalars and their lists, dicts and optionals;
    `Any` (the literal as it is) for the rest."""
    if not isinstance(spec, dict):
        return Any
    kind = spec.get("kind")
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "list":
        return list[annotation(spec.get("of"))]  # type: ignore[misc]
    if kind == "dict" and "key" in spec:
        return dict[annotation(spec["key"]), annotation(spec.get("value"))]  # type: ignore[misc]
    if kind == "optional":
        return Optional[annotation(spec.get("of"))]  # noqa: UP007 - built at run time
    return Any


_PLAIN = (type(None), bool, int, float, str, bytes, _dt.datetime, _dt.date, _dt.timedelta)


def _is_plain(value: Any, depth: int = 0) -> bool:
    """Numbers, text, dates and bytes, and lists and str-keyed dicts of them: what a literal holds
    and gives back the same."""
    if depth > 20:
        return False
    if type(value) in _PLAIN:
        return True
    if type(value) is list:
        return all(_is_plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _is_plain(v, depth + 1) for k, v in value.items())
    return False


def _plain_literal(value: Any, tp: Any, to_literal: Any) -> Any:
    """The literal of a plain value small enough to travel as one; None for the rest (and for
    None itself, which travels pickled: a literal null reads as no value)."""
    if value is None or not _is_plain(value):
        return None
    literal = to_literal(tp, value)
    return literal if len(json.dumps(literal)) <= LITERAL_LIMIT else None


def _pickled(owner: str, value: Any) -> bytes:
    import cloudpickle

    try:
        return bytes(cloudpickle.dumps(value))
    except Exception as exc:  # noqa: BLE001 - whatever pickling raises, said once
        raise InputError(f"{owner}: the value ({type(value).__name__}) cannot be pickled: {exc}") from exc


def _partition_params(partitions: Mapping[str, str]) -> list[str] | None:
    return [f"{k}={v}" for k, v in partitions.items()] or None


def _iso(when: _dt.datetime | None) -> str | None:
    """A time as the catalog stores it: ISO text, naive UTC."""
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return when.isoformat()


def _quoted(part: str) -> str:
    return quote(str(part), safe="")

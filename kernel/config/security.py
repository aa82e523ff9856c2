"""Who an execution runs as and what it may read: secrets, identities, labels.

Plain data that travels in task and launch plan specs. Secret *values* never
appear here; a `Secret` only names what the backend mounts into the container.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from ..errors import InputError, TypeMismatchError

# Kubernetes object metadata rules (apimachinery validation).
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEY_RULE = (
    "an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.' "
    "that start and end with a letter or digit"
)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-_.")[:63] or "x"


def _is_valid_key(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(_LABEL_NAME.match(name))


def _check_map(values: Any, owner: str, what: str, check_values: bool) -> dict[str, str]:
    if not isinstance(values, Mapping):
        raise TypeMismatchError(
            f"{owner}: expected a dict of str to str {what}s, got {type(values).__name__}; "
            f"write {owner.split('(')[0]}({{'team': 'ml'}})",
            entity=owner,
            expected="dict[str, str]",
            found=type(values).__name__,
        )
    out: dict[str, str] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeMismatchError(
                f"{owner}: {what} {key!r}: {value!r} must map str to str, got "
                f"{type(key).__name__} to {type(value).__name__}; quote the value: {str(value)!r}",
                entity=owner,
                name=str(key),
                expected="str",
                found=type(value).__name__,
            )
        if not _is_valid_key(key):
            raise InputError(
                f"{owner}: {what} key {key!r} is not a valid Kubernetes key: expected {_KEY_RULE}, "
                f"got {key!r}; write {_slug(key)!r}"
            )
        if check_values and value and (len(value) > 63 or not _LABEL_NAME.match(value)):
            raise InputError(
                f"{owner}: label {key!r} has value {value!r}, but a Kubernetes label value is "
                f"empty or at most 63 letters, digits, '-', '_' or '.' that start and end with "
                f"a letter or digit; write {_slug(value)!r} or move it to Annotations"
            )
        out[key] = value
    return out


def validate_labels(values: Any, *, owner: str = "Labels") -> dict[str, str]:
    """Check a Kubernetes label map and return a copy; raise `InputError` naming `owner`."""
    return _check_map(values, owner, "label", check_values=True)


def validate_annotations(values: Any, *, owner: str = "Annotations") -> dict[str, str]:
    """Check a Kubernetes annotation map (keys as labels, values free text)."""
    return _check_map(values, owner, "annotation", check_values=False)


def _opt_str(owner: str, name: str, value: Any, *, required: bool = False) -> None:
    if (required or value is not None) and (not isinstance(value, str) or not value):
        expected = "a non-empty str" if required else "a non-empty str or None"
        raise TypeMismatchError(
            f"{owner}: expected {name} to be {expected}, got {value!r}",
            entity=owner,
            name=name,
            expected="str",
            found=type(value).__name__,
        )


_T = TypeVar("_T")


def _build(cls: type[_T], d: Mapping[str, Any]) -> _T:
    try:
        return cls(**d)
    except TypeError as e:
        raise InputError(f"{cls.__name__}.from_spec({dict(d)!r}): {e}") from None


@dataclass(frozen=True)
class Secret:
    """A secret the backend mounts for a task, as an env var or a file.

    `key` alone names a secret (Union style); `group` plus `key` names one key
    of a grouped secret (Flyte style).
    """

    class MountType(Enum):
        ANY = 0
        ENV_VAR = 1
        FILE = 2

    group: str | None = None
    key: str | None = None
    group_version: str | None = None
    mount_requirement: Secret.MountType = MountType.ANY
    env_var: str | None = None

    def __post_init__(self) -> None:
        owner = f"Secret(group={self.group!r}, key={self.key!r})"
        for name in ("group", "key", "group_version", "env_var"):
            _opt_str(owner, name, getattr(self, name))
        if self.group is None and self.key is None:
            raise InputError(
                "Secret(): expected a key or a group naming the secret, got neither; "
                "write Secret(key='MY_API_KEY')"
            )
        if isinstance(self.mount_requirement, str):
            try:
                object.__setattr__(
                    self, "mount_requirement", Secret.MountType[self.mount_requirement]
                )
            except KeyError:
                pass
        if not isinstance(self.mount_requirement, Secret.MountType):
            raise InputError(
                f"{owner}: expected mount_requirement to be Secret.MountType.ANY, ENV_VAR or FILE, "
                f"got {self.mount_requirement!r}"
            )
        if self.env_var is not None:
            if not _ENV_VAR.match(self.env_var):
                fix = re.sub(r"\W", "_", self.env_var)
                raise InputError(
                    f"{owner}: expected env_var to be an environment variable name such as "
                    f"'API_KEY', got {self.env_var!r}; write {fix!r}"
                )
            if self.mount_requirement is Secret.MountType.FILE:
                raise InputError(
                    f"{owner}: env_var={self.env_var!r} asks for an environment variable but "
                    "mount_requirement is FILE; drop env_var or use MountType.ENV_VAR"
                )

    def to_spec(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "key": self.key,
            "group_version": self.group_version,
            "mount_requirement": self.mount_requirement.name,
            "env_var": self.env_var,
        }

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> Secret:
        return _build(cls, d)


@dataclass(frozen=True)
class Identity:
    """Who an execution runs as (Flyte's `run_as`)."""

    iam_role: str | None = None
    k8s_service_account: str | None = None
    execution_identity: str | None = None

    def __post_init__(self) -> None:
        for name in ("iam_role", "k8s_service_account", "execution_identity"):
            _opt_str("Identity", name, getattr(self, name))

    def to_spec(self) -> dict[str, Any]:
        return {
            "iam_role": self.iam_role,
            "k8s_service_account": self.k8s_service_account,
            "execution_identity": self.execution_identity,
        }

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> Identity:
        return _build(cls, d)


@dataclass(frozen=True)
class OAuth2TokenRequest:
    """A token the backend fetches for a task with client credentials."""

    name: str
    client_id: str
    client_secret: Secret
    idp_discovery_endpoint: str | None = None
    token_endpoint: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.client_secret, Mapping):
            object.__setattr__(self, "client_secret", Secret.from_spec(self.client_secret))
        for name in ("name", "client_id"):
            _opt_str("OAuth2TokenRequest", name, getattr(self, name), required=True)
        for name in ("idp_discovery_endpoint", "token_endpoint"):
            _opt_str("OAuth2TokenRequest", name, getattr(self, name))
        if not isinstance(self.client_secret, Secret):
            raise TypeMismatchError(
                f"OAuth2TokenRequest({self.name!r}): expected client_secret to be a Secret, "
                f"got {type(self.client_secret).__name__}; write Secret(key='...')",
                entity="OAuth2TokenRequest",
                name="client_secret",
                expected="Secret",
                found=type(self.client_secret).__name__,
            )

    def to_spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "client_id": self.client_id,
            "client_secret": self.client_secret.to_spec(),
            "idp_discovery_endpoint": self.idp_discovery_endpoint,
            "token_endpoint": self.token_endpoint,
        }

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> OAuth2TokenRequest:
        return _build(cls, d)


def _items(owner: str, name: str, kind: type, values: Iterable[Any] | None) -> tuple[Any, ...]:
    if values is None:
        return ()
    if isinstance(values, (kind, Mapping, str)):
        values = [values]
    out = []
    for v in values:
        v = kind.from_spec(v) if isinstance(v, Mapping) else v  # type: ignore[attr-defined]
        if not isinstance(v, kind):
            raise TypeMismatchError(
                f"{owner}: expected {name} to hold {kind.__name__} objects, got {v!r}; "
                f"write {name}=[{kind.__name__}(...)]",
                entity=owner,
                name=name,
                expected=kind.__name__,
                found=type(v).__name__,
            )
        out.append(v)
    return tuple(out)


@dataclass(frozen=True)
class SecurityContext:
    """The identity, secrets and tokens an execution runs with."""

    run_as: Identity | None = None
    secrets: tuple[Secret, ...] = field(default=())
    tokens: tuple[OAuth2TokenRequest, ...] = field(default=())

    def __post_init__(self) -> None:
        run_as = self.run_as
        if isinstance(run_as, Mapping):
            run_as = Identity.from_spec(run_as)
        if run_as is not None and not isinstance(run_as, Identity):
            raise TypeMismatchError(
                f"SecurityContext(run_as={run_as!r}): expected an Identity, got "
                f"{type(run_as).__name__}; write "
                "run_as=SecurityContext.K8sServiceAccount(name='my-service-account')",
                entity="SecurityContext",
                name="run_as",
                expected="Identity",
                found=type(run_as).__name__,
            )
        object.__setattr__(self, "run_as", run_as)
        object.__setattr__(
            self, "secrets", _items("SecurityContext", "secrets", Secret, self.secrets)
        )
        object.__setattr__(
            self, "tokens", _items("SecurityContext", "tokens", OAuth2TokenRequest, self.tokens)
        )

    @staticmethod
    def K8sServiceAccount(name: str) -> Identity:  # noqa: N802 - the documented spelling
        """Run as a Kubernetes service account."""
        return Identity(k8s_service_account=name)

    @staticmethod
    def IAMRole(name: str) -> Identity:  # noqa: N802 - the documented spelling
        """Run with a cloud IAM role."""
        return Identity(iam_role=name)

    def to_spec(self) -> dict[str, Any]:
        return {
            "run_as": self.run_as.to_spec() if self.run_as else None,
            "secrets": [s.to_spec() for s in self.secrets],
            "tokens": [t.to_spec() for t in self.tokens],
        }

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> SecurityContext:
        return _build(cls, d)


@dataclass(frozen=True)
class AuthRole:
    """The older way to say who a launch plan runs as."""

    assumable_iam_role: str | None = None
    kubernetes_service_account: str | None = None

    def __post_init__(self) -> None:
        _opt_str("AuthRole", "assumable_iam_role", self.assumable_iam_role)
        _opt_str("AuthRole", "kubernetes_service_account", self.kubernetes_service_account)

    def to_spec(self) -> dict[str, Any]:
        return {
            "assumable_iam_role": self.assumable_iam_role,
            "kubernetes_service_account": self.kubernetes_service_account,
        }

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> AuthRole:
        return _build(cls, d)


@dataclass(frozen=True)
class Labels:
    """Kubernetes labels put on every pod of an execution."""

    values: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "values", validate_labels(self.values, owner=f"Labels({self.values!r})")
        )

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.values.items())))

    def to_spec(self) -> dict[str, Any]:
        return {"values": dict(self.values)}

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> Labels:
        return _build(cls, d)


@dataclass(frozen=True)
class Annotations:
    """Kubernetes annotations put on every pod of an execution."""

    values: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "values", validate_annotations(self.values, owner=f"Annotations({self.values!r})")
        )

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.values.items())))

    def to_spec(self) -> dict[str, Any]:
        return {"values": dict(self.values)}

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> Annotations:
        return _build(cls, d)


@dataclass(frozen=True)
class RawOutputDataConfig:
    """Where an execution writes offloaded data (files, dataframes)."""

    output_location_prefix: str

    def __post_init__(self) -> None:
        if not isinstance(self.output_location_prefix, str):
            found = type(self.output_location_prefix).__name__
            raise TypeMismatchError(
                f"RawOutputDataConfig(output_location_prefix={self.output_location_prefix!r}): "
                f"expected a str such as 's3://bucket/prefix/', got {found}; pass str(path)",
                entity="RawOutputDataConfig",
                name="output_location_prefix",
                expected="str",
                found=found,
            )

    def to_spec(self) -> dict[str, Any]:
        return {"output_location_prefix": self.output_location_prefix}

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> RawOutputDataConfig:
        return _build(cls, d)

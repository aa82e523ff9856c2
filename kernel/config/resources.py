"""What a task asks of its machine: resources, GPU accelerators, pod templates.

Plain data that travels in task specs. Quantities are Kubernetes quantities
("500m", "2", "1Gi", "512Mi", "1G"); `parse_cpu` and `parse_memory` turn them
into cores and bytes for schedulers that want numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any, Union

from ..errors import InputError, TypeMismatchError, UserError

Quantity = Union[str, int, float]

_QUANTITY = re.compile(
    r"^(?P<num>\+?(?:\d+(?:\.\d*)?|\.\d+))(?P<suffix>[eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_EXAMPLES = {
    "cpu": "a number of cores such as 2, '2' or '500m'",
    "gpu": "a number of GPUs such as 1 or '1'",
    "mem": "a Kubernetes quantity such as '512Mi' or '2Gi'",
    "ephemeral_storage": "a Kubernetes quantity such as '512Mi' or '2Gi'",
}


def _memory_fix(text: str) -> str:
    """Guess what a user meant by a memory size Kubernetes does not accept."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([kKmMgGtTpPeE])([iI]?)[bB]?\s*", text)
    if m:
        num, unit, binary = m.groups()
        unit = "k" if unit in "kK" else unit.upper()
        if binary:
            return f"write '{num}{unit.upper()}i'"
        return f"write '{num}{unit}' or '{num}{unit.upper()}i'"
    return "use a whole number of bytes or a suffix Ki, Mi, Gi, Ti (powers of 2) or k, M, G, T"


def _parse(value: Any, name: str, owner: str) -> Decimal:
    """Validate one quantity and return its amount in base units (cores or bytes)."""
    memory = name in ("mem", "ephemeral_storage")
    where = f"{owner}({name}={value!r})"
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        found = type(value).__name__
        raise TypeMismatchError(
            f"{where}: expected {_EXAMPLES[name]}, got a {found}; pass a str or a number",
            entity=owner,
            name=name,
            expected="str | int | float",
            found=found,
        )
    text = value if isinstance(value, str) else repr(value)
    m = _QUANTITY.match(text)
    if m is None:
        if text.strip().startswith("-"):
            fix = "resources cannot be negative; remove the sign"
        elif memory:
            fix = _memory_fix(text)
        else:
            fix = "write a whole or fractional number of cores, or millicores ending in 'm'"
        raise InputError(f"{where}: expected {_EXAMPLES[name]}, got {text!r}; {fix}")
    num, suffix = Decimal(m["num"]), m["suffix"] or ""
    if suffix in _BINARY:
        if not memory:
            raise InputError(
                f"{where}: expected {_EXAMPLES[name]}, got {text!r}; binary suffixes like "
                f"'{suffix}' are for memory (did you mean mem={text!r}?)"
            )
        return num * _BINARY[suffix]
    if suffix == "m" and memory:
        raise InputError(
            f"{where}: expected {_EXAMPLES[name]}, got {text!r}; 'm' means thousandths of a "
            f"byte, write '{m['num']}M' or '{m['num']}Mi'"
        )
    if suffix[:1] in ("e", "E") and len(suffix) > 1:
        return num.scaleb(int(suffix[1:]))
    return num.scaleb(_DECIMAL[suffix])


def parse_cpu(value: Quantity, *, name: str = "cpu", owner: str = "Resources") -> float:
    """Cores in a CPU (or GPU) quantity: `parse_cpu("500m") == 0.5`."""
    return float(_parse(value, name, owner))


def parse_memory(value: Quantity, *, name: str = "mem", owner: str = "Resources") -> int:
    """Bytes in a memory quantity, rounded up: `parse_memory("1Gi") == 2**30`."""
    return int(_parse(value, name, owner).to_integral_value(rounding=ROUND_CEILING))


@dataclass(frozen=True)
class Resources:
    """CPU, memory, GPU and ephemeral storage for `requests` or `limits`."""

    cpu: Quantity | None = None
    mem: Quantity | None = None
    gpu: Quantity | None = None
    ephemeral_storage: Quantity | None = None

    def __post_init__(self) -> None:
        self.canonical()  # validates every quantity that is set

    def canonical(self) -> dict[str, float | int]:
        """The set quantities as numbers: cores for cpu and gpu, bytes for the rest."""
        out: dict[str, float | int] = {}
        for name in ("cpu", "gpu"):
            if getattr(self, name) is not None:
                out[name] = parse_cpu(getattr(self, name), name=name)
        for name in ("mem", "ephemeral_storage"):
            if getattr(self, name) is not None:
                out[name] = parse_memory(getattr(self, name), name=name)
        return out

    def to_spec(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> Resources:
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise InputError(
                f"Resources.from_spec: unknown keys {sorted(unknown)}; expected cpu, mem, gpu, "
                "ephemeral_storage"
            )
        return cls(**d)


_MIG_PARTITIONS: dict[str, tuple[str, ...]] = {
    "nvidia-tesla-a100": ("1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"),
    "nvidia-a100-80gb": ("1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"),
}


class UnknownPartitionError(UserError, AttributeError):
    """An accelerator has no partition by that attribute name."""


def _attr(size: str) -> str:
    return "partition_" + size.replace(".", "_")


@dataclass(frozen=True)
class GPUAccelerator:
    """A GPU type a task needs, optionally one partition (MIG slice) of it.

    A100 and A100_80GB carry their partitions as attributes:
    `A100.partition_2g_10gb` is the 2g.10gb slice of an A100.
    """

    device: str
    partition_size: str | None = None
    require_unpartitioned: bool = False

    def __post_init__(self) -> None:
        if (
            not isinstance(self.device, str)
            or not self.device
            or self.device != self.device.strip()
        ):
            found = type(self.device).__name__
            raise TypeMismatchError(
                f"GPUAccelerator({self.device!r}): expected a device name such as "
                f"'nvidia-tesla-t4', got {self.device!r}; use a constant like plait.T4",
                entity="GPUAccelerator",
                name="device",
                expected="str",
                found=found,
            )
        size = self.partition_size
        if size is None:
            return
        known = _MIG_PARTITIONS.get(self.device)
        if not isinstance(size, str) or not size or (known is not None and size not in known):
            expected = ", ".join(map(repr, known)) if known else "a MIG profile such as '1g.5gb'"
            raise InputError(
                f"GPUAccelerator({self.device!r}).partitioned({size!r}): expected {expected}, "
                f"got {size!r}; pick one of the listed partitions"
            )
        if self.require_unpartitioned:
            raise InputError(
                f"GPUAccelerator({self.device!r}): partition_size={size!r} and "
                "require_unpartitioned=True contradict each other; keep one"
            )

    @property
    def partitions(self) -> tuple[str, ...]:
        """The partition sizes plait knows for this device (empty when unknown)."""
        return _MIG_PARTITIONS.get(self.device, ())

    def partitioned(self, partition_size: str) -> GPUAccelerator:
        """This device, sliced: `A100.partitioned("1g.5gb")`."""
        return replace(self, partition_size=partition_size, require_unpartitioned=False)

    @property
    def unpartitioned(self) -> GPUAccelerator:
        """This device as a whole GPU, never a partition."""
        return replace(self, partition_size=None, require_unpartitioned=True)

    def __getattr__(self, name: str) -> GPUAccelerator:
        device = self.__dict__.get("device")
        if not name.startswith("partition_") or device is None:
            raise AttributeError(name)
        for size in _MIG_PARTITIONS.get(device, ()):
            if _attr(size) == name:
                return self.partitioned(size)
        known = _MIG_PARTITIONS.get(device, ())
        if known:
            offered = ", ".join(_attr(s) for s in known)
            fix = f"expected one of {offered}"
        else:
            fix = "plait knows no partitions of this device; call .partitioned('<profile>')"
        raise UnknownPartitionError(f"GPUAccelerator({device!r}) has no {name!r}: {fix}")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *(_attr(s) for s in self.partitions)})

    def to_spec(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "partition_size": self.partition_size,
            "unpartitioned": self.require_unpartitioned,
        }

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> GPUAccelerator:
        return cls(d["device"], d.get("partition_size"), bool(d.get("unpartitioned", False)))


A10G = GPUAccelerator("nvidia-a10g")
L4 = GPUAccelerator("nvidia-l4")
L40S = GPUAccelerator("nvidia-l40s")
K80 = GPUAccelerator("nvidia-tesla-k80")
M60 = GPUAccelerator("nvidia-tesla-m60")
P4 = GPUAccelerator("nvidia-tesla-p4")
P100 = GPUAccelerator("nvidia-tesla-p100")
T4 = GPUAccelerator("nvidia-tesla-t4")
V100 = GPUAccelerator("nvidia-tesla-v100")
A100 = GPUAccelerator("nvidia-tesla-a100")
A100_80GB = GPUAccelerator("nvidia-a100-80gb")


def accelerator_from(value: GPUAccelerator | str | None) -> GPUAccelerator | None:
    """Accept what users pass as `accelerator=`: a constant, a device name or None."""
    if value is None or isinstance(value, GPUAccelerator):
        return value
    if isinstance(value, str):
        return GPUAccelerator(value)
    found = type(value).__name__
    raise TypeMismatchError(
        f"accelerator={value!r}: expected a GPUAccelerator such as plait.A100 or a device "
        f"name such as 'nvidia-tesla-a100', got {found}",
        entity="accelerator",
        expected="GPUAccelerator | str",
        found=found,
    )


def _k8s_json(obj: Any, where: str) -> Any:
    """Kubernetes client models (or plain dicts) as the JSON the API server takes."""
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, Mapping):
        return {str(k): _k8s_json(v, where) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_k8s_json(v, where) for v in obj]
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    from .image_spec import ImageSpec  # a container's image may be an ImageSpec

    if isinstance(obj, ImageSpec):
        return obj.image_name()
    attribute_map = getattr(obj, "attribute_map", None)
    if isinstance(attribute_map, Mapping):
        return {
            key: _k8s_json(getattr(obj, attr), where)
            for attr, key in attribute_map.items()
            if getattr(obj, attr, None) is not None
        }
    found = type(obj).__name__
    raise TypeMismatchError(
        f"{where}: expected Kubernetes client objects (V1PodSpec, ...) or plain dicts, got "
        f"{found}; convert it to a dict",
        entity="PodTemplate",
        name="pod_spec",
        expected="V1PodSpec | dict",
        found=found,
    )


@dataclass(frozen=True)
class PodTemplate:
    """A Kubernetes pod spec for a task's pod, carried as data.

    `pod_spec` may be a `kubernetes.client.V1PodSpec` or the equivalent dict;
    `from_spec` gives back the dict form.
    """

    pod_spec: Any = None
    primary_container_name: str = "primary"
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None

    def __post_init__(self) -> None:
        name = self.primary_container_name
        if not isinstance(name, str) or not re.fullmatch(
            r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", name
        ):
            raise InputError(
                f"PodTemplate(primary_container_name={name!r}): expected a Kubernetes container "
                "name (lower-case letters, digits and '-', at most 63), got "
                f"{name!r}; write 'primary'"
            )
        from .security import validate_annotations, validate_labels  # only pod templates need it

        if self.labels is not None:
            owner = f"PodTemplate(labels={self.labels!r})"
            object.__setattr__(self, "labels", validate_labels(self.labels, owner=owner))
        if self.annotations is not None:
            owner = f"PodTemplate(annotations={self.annotations!r})"
            object.__setattr__(
                self, "annotations", validate_annotations(self.annotations, owner=owner)
            )
        self.pod_spec_json()  # fail now, not at registration

    def pod_spec_json(self) -> dict[str, Any] | None:
        """The pod spec as Kubernetes API JSON (camelCase keys)."""
        spec: dict[str, Any] | None = _k8s_json(self.pod_spec, "PodTemplate(pod_spec=...)")
        return spec

    def to_spec(self) -> dict[str, Any]:
        return {
            "pod_spec": self.pod_spec_json(),
            "primary_container_name": self.primary_container_name,
            "labels": self.labels,
            "annotations": self.annotations,
        }

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> PodTemplate:
        return cls(
            pod_spec=d.get("pod_spec"),
            primary_container_name=d.get("primary_container_name", "primary"),
            labels=d.get("labels"),
            annotations=d.get("annotations"),
        )

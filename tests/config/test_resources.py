"""Resources, GPU accelerators and pod templates as a task author writes them."""

from __future__ import annotations

import json
import pickle

import pytest
from plait.config.resources import (
    A10G,
    A100,
    A100_80GB,
    K80,
    L4,
    M60,
    P4,
    P100,
    T4,
    V100,
    GPUAccelerator,
    PodTemplate,
    Resources,
    accelerator_from,
    parse_cpu,
    parse_memory,
)
from plait.errors import InputError, TypeMismatchError, UserError


def roundtrip(obj):
    spec = obj.to_spec()
    return type(obj).from_spec(json.loads(json.dumps(spec)))


# ---- quantities -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cores"),
    [
        ("500m", 0.5),
        ("2", 2.0),
        (2, 2.0),
        (0.25, 0.25),
        ("2500m", 2.5),
        ("1.5", 1.5),
        ("1e3", 1000.0),
    ],
)
def test_cpu_quantities_parse_to_cores(value, cores):
    assert parse_cpu(value) == cores


@pytest.mark.parametrize(
    ("value", "nbytes"),
    [
        ("1Gi", 2**30),
        ("512Mi", 512 * 2**20),
        ("1G", 10**9),
        ("1.5Gi", 3 * 2**29),
        ("100k", 100_000),
        (1024, 1024),
        ("120Gi", 120 * 2**30),
        ("1e3", 1000),
    ],
)
def test_memory_quantities_parse_to_bytes(value, nbytes):
    assert parse_memory(value) == nbytes


def test_the_documented_requests_and_limits_are_accepted():
    requests = Resources(mem="120Gi", cpu="44", ephemeral_storage="100Gi")
    limits = Resources(mem="200Gi", cpu="100", gpu="12", ephemeral_storage="200Gi")
    assert limits.canonical() == {
        "cpu": 100.0,
        "gpu": 12.0,
        "mem": 200 * 2**30,
        "ephemeral_storage": 200 * 2**30,
    }
    assert requests.gpu is None
    assert Resources(gpu="3000m").canonical() == {"gpu": 3.0}


def test_memory_written_like_a_file_size_names_the_fix():
    with pytest.raises(
        InputError,
        match=r"^Resources\(mem='2GB'\): expected a Kubernetes quantity such as '512Mi' or '2Gi', "
        r"got '2GB'; write '2G' or '2Gi'$",
    ):
        Resources(mem="2GB")


def test_lower_case_binary_suffix_names_the_fix():
    with pytest.raises(InputError, match=r"got '4gi'; write '4Gi'"):
        Resources(mem="4gi")


def test_milli_bytes_are_almost_certainly_a_typo():
    with pytest.raises(
        InputError, match=r"'m' means thousandths of a byte, write '500M' or '500Mi'"
    ):
        Resources(mem="500m")


def test_ephemeral_storage_is_checked_like_memory():
    with pytest.raises(
        InputError, match=r"Resources\(ephemeral_storage='10GB'\).*write '10G' or '10Gi'"
    ):
        Resources(ephemeral_storage="10GB")


def test_cpu_with_a_memory_suffix_points_at_mem():
    with pytest.raises(InputError, match=r"Resources\(cpu='4Gi'\).*did you mean mem='4Gi'"):
        Resources(cpu="4Gi")


def test_cpu_that_is_not_a_number_says_what_a_core_count_looks_like():
    with pytest.raises(
        InputError, match=r"expected a number of cores such as 2, '2' or '500m', got 'two'"
    ):
        Resources(cpu="two")


def test_negative_resources_are_refused():
    with pytest.raises(InputError, match="cannot be negative; remove the sign"):
        Resources(cpu=-1)


@pytest.mark.parametrize("value", [True, [1], {"cpu": 1}])
def test_non_quantities_are_type_errors(value):
    with pytest.raises(TypeMismatchError, match=r"pass a str or a number") as info:
        Resources(cpu=value)
    assert isinstance(info.value, UserError) and isinstance(info.value, TypeError)


def test_input_error_is_a_value_error_and_a_user_error():
    with pytest.raises(ValueError):
        Resources(mem="lots")
    with pytest.raises(UserError):
        parse_memory("lots")


def test_resources_are_frozen_and_hashable():
    r = Resources(cpu="1", mem="1Gi")
    with pytest.raises(AttributeError):
        r.cpu = "2"  # type: ignore[misc]
    assert {r: 1}[Resources(cpu="1", mem="1Gi")] == 1


def test_resources_round_trip_through_json():
    r = Resources(cpu=0.5, mem="1Gi", gpu=1, ephemeral_storage="10Gi")
    assert roundtrip(r) == r
    assert Resources().to_spec() == {}
    assert roundtrip(Resources(mem="2Gi")) == Resources(mem="2Gi")


def test_unknown_spec_keys_are_refused():
    with pytest.raises(InputError, match=r"unknown keys \['memory'\]"):
        Resources.from_spec({"memory": "1Gi"})


# ---- accelerators ---------------------------------------------------------


@pytest.mark.parametrize(
    ("constant", "device"),
    [
        (A10G, "nvidia-a10g"),
        (L4, "nvidia-l4"),
        (K80, "nvidia-tesla-k80"),
        (M60, "nvidia-tesla-m60"),
        (P4, "nvidia-tesla-p4"),
        (P100, "nvidia-tesla-p100"),
        (T4, "nvidia-tesla-t4"),
        (V100, "nvidia-tesla-v100"),
        (A100, "nvidia-tesla-a100"),
        (A100_80GB, "nvidia-a100-80gb"),
    ],
)
def test_constants_name_the_devices_flyte_uses(constant, device):
    assert constant.device == device
    assert constant.partition_size is None
    assert GPUAccelerator(device) == constant


def test_a100_partitions_are_attributes():
    assert [
        A100.partition_1g_5gb.partition_size,
        A100.partition_2g_10gb.partition_size,
        A100.partition_3g_20gb.partition_size,
        A100.partition_4g_20gb.partition_size,
        A100.partition_7g_40gb.partition_size,
    ] == ["1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"]
    assert A100.partition_2g_10gb.device == "nvidia-tesla-a100"


def test_a100_80gb_partitions_are_attributes():
    assert [
        A100_80GB.partition_1g_10gb.partition_size,
        A100_80GB.partition_2g_20gb.partition_size,
        A100_80GB.partition_3g_40gb.partition_size,
        A100_80GB.partition_4g_40gb.partition_size,
        A100_80GB.partition_7g_80gb.partition_size,
    ] == ["1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"]
    assert A100_80GB.partition_7g_80gb.device == "nvidia-a100-80gb"


def test_partitions_show_up_in_dir_and_hasattr():
    assert "partition_2g_10gb" in dir(A100)
    assert hasattr(A100, "partition_2g_10gb")
    assert not hasattr(T4, "partition_1g_5gb")


def test_a_partition_the_device_does_not_have_lists_the_ones_it_has():
    with pytest.raises(
        AttributeError,
        match=r"has no 'partition_3g_40gb': expected one of "
        r"partition_1g_5gb, .*partition_7g_40gb",
    ):
        A100.partition_3g_40gb  # noqa: B018


def test_partitioned_checks_known_devices_and_trusts_unknown_ones():
    assert A100.partitioned("1g.5gb") == A100.partition_1g_5gb
    with pytest.raises(InputError, match=r"partitioned\('3g.40gb'\): expected '1g.5gb', "):
        A100.partitioned("3g.40gb")
    h100 = GPUAccelerator("nvidia-h100").partitioned("1g.10gb")
    assert h100.partition_size == "1g.10gb"


def test_unpartitioned_asks_for_a_whole_device():
    whole = A100.partition_1g_5gb.unpartitioned
    assert whole.partition_size is None
    assert whole.to_spec() == {
        "device": "nvidia-tesla-a100",
        "partition_size": None,
        "unpartitioned": True,
    }


def test_a_device_string_is_accepted_where_an_accelerator_is():
    assert accelerator_from("nvidia-l40s") == GPUAccelerator("nvidia-l40s")
    assert accelerator_from(A100.partition_2g_10gb) is not None
    assert accelerator_from(None) is None
    with pytest.raises(TypeMismatchError, match=r"accelerator=3: expected a GPUAccelerator"):
        accelerator_from(3)  # type: ignore[arg-type]


def test_bad_device_names_are_refused():
    with pytest.raises(
        TypeMismatchError, match=r"expected a device name such as 'nvidia-tesla-t4'"
    ):
        GPUAccelerator("")


def test_accelerators_round_trip_and_pickle():
    for acc in (T4, A100.partition_3g_20gb, A100_80GB.unpartitioned):
        assert roundtrip(acc) == acc
        assert pickle.loads(pickle.dumps(acc)) == acc
    assert roundtrip(A100.partition_1g_5gb).partition_2g_10gb == A100.partition_2g_10gb


def test_flytekit_accelerators_module_path_has_the_constants():
    from plait import accelerators

    assert accelerators.A100 is A100
    assert accelerators.T4 is T4
    assert accelerators.L40S.device == "nvidia-l40s"


# ---- pod templates --------------------------------------------------------


POD_SPEC = {
    "containers": [
        {
            "name": "primary",
            "resources": {"requests": {"cpu": "1", "memory": "1Gi"}},
            "env": [{"name": "COMP_KEY_EX", "value": "compile_time"}],
        }
    ],
    "nodeSelector": {"node-group": "gpu"},
}


def test_pod_template_carries_its_pod_spec_as_data():
    pt = PodTemplate(
        pod_spec=POD_SPEC, labels={"team": "ml"}, annotations={"note": "free text here"}
    )
    assert pt.primary_container_name == "primary"
    assert roundtrip(pt) == pt
    assert json.loads(json.dumps(pt.to_spec()))["pod_spec"] == POD_SPEC


class _FakeModel:
    """Shaped like a kubernetes.client model: attribute_map maps attributes to JSON keys."""

    attribute_map = {
        "node_selector": "nodeSelector",
        "containers": "containers",
        "host_ipc": "hostIPC",
    }

    def __init__(self, **kw):
        self.node_selector = kw.get("node_selector")
        self.containers = kw.get("containers")
        self.host_ipc = kw.get("host_ipc")


def test_kubernetes_client_objects_become_api_json():
    pt = PodTemplate(
        pod_spec=_FakeModel(node_selector={"a": "b"}, containers=[{"name": "primary"}])
    )
    assert pt.to_spec()["pod_spec"] == {
        "nodeSelector": {"a": "b"},
        "containers": [{"name": "primary"}],
    }


def test_pod_spec_that_cannot_travel_is_refused_early():
    with pytest.raises(
        TypeMismatchError,
        match=r"PodTemplate\(pod_spec=\.\.\.\): .*got object; convert it to a dict",
    ):
        PodTemplate(pod_spec={"containers": [object()]})


def test_pod_template_labels_follow_kubernetes_rules():
    with pytest.raises(
        InputError, match=r"label key 'team name' is not a valid Kubernetes key.*write 'team-name'"
    ):
        PodTemplate(labels={"team name": "ml"})


def test_primary_container_name_must_be_a_container_name():
    with pytest.raises(
        InputError,
        match=r"primary_container_name='Primary'\): expected a Kubernetes container name",
    ):
        PodTemplate(primary_container_name="Primary")


def test_the_documented_kubernetes_pod_spec_travels_as_api_json():
    client = pytest.importorskip("kubernetes.client")
    pod_spec = client.V1PodSpec(
        containers=[
            client.V1Container(
                name="primary",
                image="ghcr.io/my-org/image:tag",
                resources=client.V1ResourceRequirements(
                    requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "1", "memory": "1Gi"}
                ),
                env=[client.V1EnvVar(name="COMP_KEY_EX", value="compile_time")],
            )
        ],
        host_ipc=True,
    )
    spec = json.loads(
        json.dumps(PodTemplate(primary_container_name="primary", pod_spec=pod_spec).to_spec())
    )
    assert spec["pod_spec"]["hostIPC"] is True
    assert spec["pod_spec"]["containers"][0]["env"] == [
        {"name": "COMP_KEY_EX", "value": "compile_time"}
    ]
    assert PodTemplate.from_spec(spec).to_spec() == spec

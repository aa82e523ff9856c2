"""`workspace.yaml` as a user writes it: what is accepted, and what each mistake says."""

from __future__ import annotations

import textwrap

import pytest
from plait.config.image_spec import ImageSpec
from plait.config.workspaces import (
    SecretMount,
    WorkspaceSpec,
    WorkspaceSpecError,
    load_spec,
    parse_spec,
    template,
)
from plait.errors import InputError

REFERENCE = {
    "name": "my-workspace",
    "description": "my workspace description",
    "project": "flytesnacks",
    "domain": "development",
    "container_image": "ghcr.io/my-org/workspace-base:py3.11",
    "resources": {"cpu": "2", "mem": "4Gi", "gpu": None},
    "accelerator": None,
    "on_startup": None,
    "ttl_seconds": 1200,
}


def spec_with(**changes):
    return parse_spec({**REFERENCE, **changes})


def error_for(**changes) -> WorkspaceSpecError:
    with pytest.raises(WorkspaceSpecError) as info:
        spec_with(**changes)
    return info.value


def write(tmp_path, text: str):
    path = tmp_path / "workspace.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_the_reference_file_loads_with_its_values(tmp_path):
    path = write(
        tmp_path,
        """\
        name: my-workspace
        description: my workspace description
        project: flytesnacks
        domain: development
        container_image: ghcr.io/my-org/workspace-base:py3.11
        resources:
            cpu: "2"
            mem: "4Gi"
            gpu: null
        accelerator: null
        on_startup: null
        ttl_seconds: 1200
        secrets:
            - key: my_secret
              env_var: MY_SECRET
        """,
    )
    spec = load_spec(path)
    assert spec == WorkspaceSpec(
        name="my-workspace",
        description="my workspace description",
        project="flytesnacks",
        domain="development",
        container_image="ghcr.io/my-org/workspace-base:py3.11",
        resources={"cpu": "2", "mem": "4Gi", "gpu": None},
        secrets=(SecretMount("my_secret", "MY_SECRET"),),
    )
    assert spec.working_dir == "workspace"
    assert spec.on_startup == ()


def test_only_a_name_is_needed_and_the_rest_has_the_reference_defaults():
    spec = parse_spec({"name": "scratch"})
    assert spec.project == "default" and spec.domain == "development"
    assert spec.resources == {"cpu": "2", "mem": "4Gi", "gpu": None}
    assert spec.ttl_seconds == 1200
    assert spec.container_image is None


def test_to_dict_is_json_and_round_trips():
    import json

    spec = spec_with(
        container_image={"name": "torch-image", "packages": ["torch"], "python_version": 3.11},
        resources={"cpu": 4, "mem": "8Gi", "gpu": 1},
        accelerator="nvidia-l4",
        on_startup=["pip install -e .", "make data"],
        secrets=[{"key": "db/password"}],
        working_dir="src/app/",
    )
    data = json.loads(json.dumps(spec.to_dict()))
    assert parse_spec(data) == spec
    assert data["resources"] == {"cpu": "4", "mem": "8Gi", "gpu": "1"}
    assert data["working_dir"] == "src/app"
    assert data["secrets"] == [{"key": "db/password", "env_var": "DB_PASSWORD"}]


def test_an_unknown_key_suggests_the_close_field():
    error = error_for(ttl_second=60)
    assert error.field == "ttl_second"
    assert isinstance(error, InputError)
    assert "did you mean 'ttl_seconds'?" in str(error)


def test_an_unknown_resource_suggests_the_close_one():
    error = error_for(resources={"memory": "4Gi"})
    assert error.field == "resources.memory"
    assert "did you mean 'mem'?" in str(error)


def test_a_key_with_no_close_match_is_named_for_removal():
    with pytest.raises(WorkspaceSpecError, match="unknown field 'banana'.*remove 'banana'"):
        spec_with(banana=1)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"description": 3}, "description", r"description: expected a str, found 3"),
        ({"ttl_seconds": "1200"}, "ttl_seconds", r"expected a whole number of seconds above 0, "
         r"found '1200'"),
        ({"ttl_seconds": 0}, "ttl_seconds", r"above 0, found 0; write `ttl_seconds: 1200`"),
        ({"ttl_seconds": True}, "ttl_seconds", r"found True"),
        ({"on_startup": {"run": "x"}}, "on_startup", r"null, a shell command or a list"),
        ({"on_startup": ["ok", 3]}, "on_startup", r"list of shell commands"),
        ({"resources": "big"}, "resources", r"a mapping with cpu, mem and gpu, found 'big'"),
        ({"secrets": "my_secret"}, "secrets", r"a list of \{key, env_var\} mappings"),
        ({"accelerator": 4}, "accelerator", r"a GPU device name such as 'nvidia-l4'"),
        ({"container_image": 7}, "container_image", r"null, an image name or a mapping"),
    ],
)
def test_wrong_types_name_the_field_the_expected_and_the_found(changes, field, message):
    error = error_for(**changes)
    assert error.field == field
    assert str(error).startswith(f"workspace.yaml: {field}")
    assert pytest.raises(WorkspaceSpecError, spec_with, **changes).match(message)


@pytest.mark.parametrize(
    ("name", "fix"),
    [("My Workspace", "my-workspace"), ("-dash", "dash"), ("a" * 64, "a" * 63), ("x/y", "x-y")],
)
def test_a_bad_name_gets_the_rule_and_a_fixed_name(name, fix):
    error = error_for(name=name)
    assert error.field == "name"
    assert "lower-case letters, digits, '-' or '_'" in str(error)
    assert f"write `name: {fix}`" in str(error)


def test_a_missing_name_says_to_add_one():
    with pytest.raises(WorkspaceSpecError, match="name: .*found None; add a line such as") as e:
        parse_spec({"ttl_seconds": 60})
    assert e.value.field == "name"


def test_a_project_that_would_break_the_url_is_refused():
    error = error_for(project="../admin")
    assert error.field == "project"


@pytest.mark.parametrize(
    ("resources", "field", "message"),
    [
        ({"mem": "4GB"}, "resources.mem", r"write '4G' or '4Gi'"),
        ({"cpu": "2Gi"}, "resources.cpu", r"binary suffixes like 'Gi' are for memory"),
        ({"cpu": "-1"}, "resources.cpu", r"cannot be negative"),
        ({"cpu": True}, "resources.cpu", r"got a bool"),
        ({"gpu": "0.5"}, "resources.gpu", r"a whole number of GPUs"),
        ({"mem": 0}, "resources.mem", r"a mem amount above 0"),
    ],
)
def test_bad_resources_are_refused_with_the_quantity_rules(resources, field, message):
    error = error_for(resources=resources)
    assert error.field == field
    assert pytest.raises(WorkspaceSpecError, spec_with, resources=resources).match(message)


def test_resources_left_out_keep_their_defaults_and_null_means_none():
    spec = spec_with(resources={"cpu": "500m", "gpu": None})
    assert spec.resources == {"cpu": "500m", "mem": "4Gi", "gpu": None}
    assert spec_with(resources={"mem": None}).resources["mem"] is None


def test_an_accelerator_needs_a_gpu():
    spec = spec_with(resources={"gpu": "1"}, accelerator="nvidia-l4")
    assert spec.accelerator == "nvidia-l4"
    error = error_for(accelerator="nvidia-l4")
    assert error.field == "resources.gpu"
    assert "at least 1 GPU for `accelerator: nvidia-l4`" in str(error)


def test_a_blank_accelerator_is_refused_like_a_task_accelerator():
    error = error_for(resources={"gpu": 1}, accelerator=" nvidia-l4")
    assert error.field == "accelerator"
    assert "GPUAccelerator" in str(error)


def test_secrets_are_key_and_optional_env_var():
    spec = spec_with(
        secrets=[{"key": "my_secret", "env_var": "MY_SECRET"}, {"key": "db/pass-word"},
                 {"key": "9lives"}]
    )
    assert [(s.key, s.env_var) for s in spec.secrets] == [
        ("my_secret", "MY_SECRET"),
        ("db/pass-word", "DB_PASS_WORD"),
        ("9lives", "_9LIVES"),
    ]


@pytest.mark.parametrize(
    ("secrets", "field", "message"),
    [
        (["my_secret"], "secrets[0]", r"write `- key: my_secret`"),
        ([{"env_var": "X"}], "secrets[0].key", r"the name of a secret.*found None"),
        ([{"key": "a/b/c"}], "secrets[0].key", r"found 'a/b/c'"),
        ([{"key": "k", "envvar": "K"}], "secrets[0].envvar", r"did you mean 'env_var'\?"),
        ([{"key": "k", "env_var": "MY-VAR"}], "secrets[0].env_var", r"write `env_var: MY_VAR`"),
        ([{"key": "a"}, {"key": "b", "env_var": "A"}], "secrets[1].env_var",
         r"secret 'a' already sets it"),
    ],
)
def test_bad_secrets_name_the_item(secrets, field, message):
    error = error_for(secrets=secrets)
    assert error.field == field
    assert pytest.raises(WorkspaceSpecError, spec_with, secrets=secrets).match(message)


def test_on_startup_takes_a_string_or_a_list():
    assert spec_with(on_startup="pip install -e .").on_startup == ("pip install -e .",)
    assert spec_with(on_startup=["a", "b"]).on_startup == ("a", "b")
    assert spec_with(on_startup=None).on_startup == ()


@pytest.mark.parametrize("path", ["/home/me", "../outside", "a/../../b", "", ".", "a\\b"])
def test_working_dir_stays_inside_the_home(path):
    error = error_for(working_dir=path)
    assert error.field == "working_dir"
    assert "not absolute, no '..'" in str(error)


def test_working_dir_is_normalised():
    assert spec_with(working_dir="./code//app/").working_dir == "code/app"


def test_container_image_may_be_a_name_none_or_imagespec_fields():
    assert spec_with(container_image=None).image_spec() is None
    assert spec_with(container_image="python:3.11").container_image == "python:3.11"
    spec = spec_with(container_image={"name": "custom-image", "packages": ["torch"]})
    assert spec.image_spec() == ImageSpec(name="custom-image", packages=["torch"])


@pytest.mark.parametrize(
    ("image", "field", "message"),
    [
        ({"name": "x", "pakages": ["torch"]}, "container_image.pakages",
         r"did you mean 'packages'\?"),
        ({"name": "Bad Name"}, "container_image.name", r"write 'bad-name'"),
        ({"name": "x", "packages": "torch", "python_version": 3.1}, "container_image.python_version",
         r"quote it"),
        ({"name": "x", "packages": [1]}, "container_image.packages", r"expected a list of str"),
        ("  ", "container_image", r"an image name"),
    ],
)
def test_bad_image_fields_are_checked_as_imagespec_checks_them(image, field, message):
    error = error_for(container_image=image)
    assert error.field == field
    assert pytest.raises(WorkspaceSpecError, spec_with, container_image=image).match(message)


@pytest.mark.parametrize("kind", ["base_image", "custom_image"])
def test_templates_load_back(tmp_path, kind):
    text = template(kind, name="team-ws", project="flytesnacks", domain="staging")
    assert text.count("#") >= 5  # it explains its fields
    spec = load_spec(write(tmp_path, text))
    assert (spec.name, spec.project, spec.domain) == ("team-ws", "flytesnacks", "staging")
    assert spec.resources == {"cpu": "2", "mem": "4Gi", "gpu": None}
    assert spec.ttl_seconds == 1200
    if kind == "base_image":
        assert spec.container_image is None
    else:
        assert spec.image_spec() == ImageSpec(
            name="team-ws-image", packages=["pandas", "scikit-learn"]
        )


def test_an_unknown_template_kind_is_refused():
    with pytest.raises(WorkspaceSpecError, match="expected 'base_image' or 'custom_image'"):
        template("gpu_image")  # type: ignore[arg-type]


def test_a_file_that_is_not_yaml_says_where(tmp_path):
    path = write(tmp_path, "name: a\nresources:\n  cpu: 2\n mem: 4Gi\n")
    with pytest.raises(WorkspaceSpecError, match=r"not valid YAML at line \d+, column \d+"):
        load_spec(path)


def test_a_file_that_is_a_list_or_missing_is_refused(tmp_path):
    with pytest.raises(WorkspaceSpecError, match="expected a mapping of workspace fields"):
        load_spec(write(tmp_path, "- name: a\n"))
    with pytest.raises(WorkspaceSpecError, match="cannot read the workspace file"):
        load_spec(tmp_path / "nowhere.yaml")


def test_errors_in_a_file_name_the_file(tmp_path):
    path = write(tmp_path, "name: ok\nttl_seconds: -5\n")
    with pytest.raises(WorkspaceSpecError, match=rf"^{path}: ttl_seconds: expected"):
        load_spec(path)

"""Tasks as their authors configure them: retries, timeouts, environment,
context, deprecation, descriptions, names, parameters and node overrides."""

from __future__ import annotations

import os
import time

import plait as union
import pytest
from plait.errors import CompileError, InputError, TypeMismatchError, UserError
from plait.run.engine import CACHE_HIT, SUCCEEDED, execute


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """Lines the programs log to $RUN_LOG, in order."""
    log = tmp_path / "runs.log"
    monkeypatch.setenv("RUN_LOG", str(log))
    return lambda: log.read_text().split() if log.exists() else []


# ---- retries -----------------------------------------------------------------


def test_recoverable_errors_are_retried_until_success(resource, runs):
    prog = resource("tasks/flaky_services.py")
    assert prog.average_price(prices=[1.0, 2.0, 6.0], busy_attempts=2) == 3.0
    assert runs() == ["attempt-1", "attempt-2", "attempt-3"]


def test_recoverable_errors_stop_when_retries_are_spent(resource, runs):
    prog = resource("tasks/flaky_services.py")
    with pytest.raises(union.FlyteRecoverableException, match="busy on attempt 3"):
        prog.average_price(prices=[1.0], busy_attempts=5)
    assert runs() == ["attempt-1", "attempt-2", "attempt-3"]  # retries=2: three attempts


def test_other_exceptions_fail_at_once_without_retry(resource, runs):
    prog = resource("tasks/flaky_services.py")
    with pytest.raises(ValueError, match="no prices to average"):
        prog.strict_average(prices=[])
    assert runs() == ["strict_average"]  # retries=3 are not spent on a ValueError


def test_retries_override_on_a_node(resource, runs):
    prog = resource("tasks/flaky_services.py")
    with pytest.raises(union.FlyteRecoverableException):
        prog.fragile_average(prices=[2.0], busy_attempts=1)  # no retries of its own
    assert prog.patient_pricing(prices=[2.0, 4.0]) == 3.0
    assert runs() == ["attempt-1", "attempt-1", "attempt-2", "attempt-3"]


# ---- timeouts ----------------------------------------------------------------


def test_timeout_stops_a_long_task_promptly(resource, runs):
    prog = resource("tasks/flaky_services.py")
    started = time.monotonic()
    with pytest.raises(
        union.TaskTimeoutError, match=r"`res_tasks_flaky_services.poll_forever` ran past its timeout of 0.5s"
    ):
        prog.poll_forever(queue="orders")
    assert time.monotonic() - started < 3
    time.sleep(0.2)
    polls = len(runs())
    time.sleep(0.3)
    assert polls > 0 and len(runs()) == polls  # the task body is no longer polling


def test_timeout_error_is_also_a_builtin_timeout_error(resource, runs):
    prog = resource("tasks/flaky_services.py")
    with pytest.raises(TimeoutError):
        prog.poll_forever(queue="orders")


def test_timed_out_attempt_is_retried_when_retries_are_set(resource, runs):
    prog = resource("tasks/flaky_services.py")
    started = time.monotonic()
    assert prog.slow_on_first_attempt(message="done") == "done on attempt 2"
    assert time.monotonic() - started < 5
    assert runs() == ["attempt-1", "attempt-2"]


def test_timeout_override_on_a_node(resource):
    prog = resource("tasks/flaky_services.py")
    with pytest.raises(union.TaskTimeoutError, match=r"timeout of 0.3s"):
        prog.impatient_nap()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(30, 30.0), (1.5, 1.5), ("10m", 600.0), ("2h", 7200.0), ("45s", 45.0)],
)
def test_timeout_spellings(value, seconds):
    @union.task(timeout=value)
    def quick() -> int:
        return 1

    assert quick.to_spec()["settings"]["timeout"] == seconds


# ---- environment variables ----------------------------------------------------


def test_environment_is_visible_during_the_task_and_restored_after(resource, monkeypatch):
    prog = resource("tasks/task_probes.py")
    monkeypatch.delenv("REPORT_LEVEL", raising=False)
    monkeypatch.setenv("REPORT_OWNER", "someone-else")
    assert prog.report_settings() == "verbose/data-team"
    assert "REPORT_LEVEL" not in os.environ
    assert os.environ["REPORT_OWNER"] == "someone-else"
    assert prog.report_settings.to_spec()["settings"]["environment"] == {
        "REPORT_LEVEL": "verbose",
        "REPORT_OWNER": "data-team",
    }


def test_run_level_environment_reaches_every_task(resource, monkeypatch):
    prog = resource("tasks/task_probes.py")
    monkeypatch.delenv("RUN_REGION", raising=False)
    run = execute(prog.read_variable, {"name": "RUN_REGION"}, envs={"RUN_REGION": "eu-west"})
    assert run.native() == "eu-west"
    assert "RUN_REGION" not in os.environ
    assert prog.read_variable(name="RUN_REGION") == "<unset>"


def test_environment_must_map_strings_to_strings():
    with pytest.raises(InputError, match=r"environment expects a dict of str to str"):

        @union.task(environment={"WORKERS": 4})
        def work() -> None: ...


# ---- current_context() ----------------------------------------------------------


def test_working_directory_exists_during_the_task_only(resource):
    prog = resource("tasks/task_probes.py")
    seen = prog.inspect_context()
    assert seen["working_directory_exists"] == "True"
    assert not os.path.exists(seen["working_directory"])


def test_context_names_the_task_and_the_execution(resource):
    prog = resource("tasks/task_probes.py")
    first, second = prog.two_probes()
    assert first["task_name"] == second["task_name"] == "res_tasks_task_probes.inspect_context"
    assert first["execution_id"] == second["execution_id"]  # one execution, two nodes
    assert first["working_directory"] != second["working_directory"]
    again, _ = prog.two_probes()
    assert again["execution_id"] != first["execution_id"]
    assert first["attempt"] == "1"


def test_attempt_number_increases_across_retries(resource, runs):
    prog = resource("tasks/flaky_services.py")
    prog.average_price(prices=[5.0], busy_attempts=1)
    assert runs() == ["attempt-1", "attempt-2"]


# ---- deprecation, descriptions, names ----------------------------------------------


def test_deprecated_task_warns_with_its_name(resource):
    prog = resource("tasks/task_probes.py")
    with pytest.warns(
        FutureWarning, match=r"task `res_tasks_task_probes.median_v1` is deprecated: use `median_v2`"
    ):
        assert prog.median_v1(values=[3.0, 1.0, 2.0]) == 2.0
    assert prog.median_v1.to_spec()["deprecated"] == "use `median_v2` instead"


def test_using_a_deprecated_task_in_a_workflow_warns(resource):
    prog = resource("tasks/task_probes.py")
    with pytest.warns(FutureWarning, match=r"median_v1` is deprecated"):

        @union.workflow
        def middle(values: list[float]) -> float:
            return prog.median_v1(values=values)


def test_docstrings_become_descriptions(resource):
    prog = resource("tasks/task_probes.py")
    assert prog.mean.to_spec()["docs"] == {
        "short": "Arithmetic mean of the values.",
        "long": "Arithmetic mean of the values.\n\n"
        "Empty input is not allowed; the caller filters first.",
    }
    assert prog.summarize.to_spec()["docs"]["short"] == "Summarize a batch of values."
    assert prog.word_count.to_spec()["docs"]["short"] == "Counts the words in a text."
    assert prog.read_variable.to_spec()["docs"] == {"short": "", "long": ""}


def test_entity_names_are_module_dot_function(resource):
    prog = resource("tasks/task_probes.py")
    assert prog.mean.name == "res_tasks_task_probes.mean"
    assert prog.summarize.name == "res_tasks_task_probes.summarize"
    assert prog.summarize.to_spec()["nodes"][0]["entity"] == "res_tasks_task_probes.mean"
    assert union.LaunchPlan.get_or_create(prog.summarize).name == prog.summarize.name


def test_explicit_task_name():
    @union.task(name="analytics.count_rows")
    def count(rows: list[int]) -> int:
        return len(rows)

    assert count.name == "analytics.count_rows"
    assert count(rows=[1, 2]) == 2


# ---- task parameters ---------------------------------------------------------------


def test_task_parameters_are_carried_in_the_spec(resource):
    prog = resource("tasks/task_settings.py")
    spec = prog.fit_model.to_spec()
    settings = spec["settings"]
    assert settings["requests"] == {"cpu": "2", "mem": "4Gi", "ephemeral_storage": "10Gi"}
    assert settings["limits"] == {"cpu": "4", "mem": "8Gi", "gpu": "1"}
    assert settings["accelerator"] == {
        "device": "nvidia-tesla-a100",
        "partition_size": "2g.10gb",
        "unpartitioned": False,
    }
    assert settings["interruptible"] is True
    assert settings["retries"] == 3
    assert settings["timeout"] == 3600.0
    assert settings["container_image"]["name"] == "trainer"
    assert settings["container_image"]["packages"] == ["scikit-learn==1.5.0"]
    assert settings["secret_requests"] == [
        {"group": "warehouse", "key": "token", "group_version": None,
         "mount_requirement": "ANY", "env_var": None}
    ]
    assert settings["environment"] == {"LOG_LEVEL": "debug"}
    assert settings["pod_template"]["primary_container_name"] == "trainer"
    assert settings["pod_template"]["labels"] == {"team": "ml"}
    assert spec["enable_deck"] is True
    assert spec["docs"]["short"] == "Fits the model on a slice of an A100."
    # the settings do not get in the way of running it here
    assert prog.fit_model(epochs=3) == 0.75


def test_accelerator_constant_and_image_name(resource):
    prog = resource("tasks/task_settings.py")
    settings = prog.score_model.to_spec()["settings"]
    assert settings["accelerator"]["device"] == "nvidia-tesla-t4"
    assert settings["accelerator"]["partition_size"] is None
    assert settings["container_image"] == "ghcr.io/example-org/scorer:1.0"


def test_changing_a_setting_changes_the_task_version():
    @union.task(retries=1)
    def step(n: int) -> int:
        return n

    before = step.to_spec()["version"]

    @union.task(retries=2)  # noqa: F811 - the author edits the decorator
    def step(n: int) -> int:
        return n

    assert step.to_spec()["version"] != before


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"retries": -1}, InputError, r"retries expects a whole number >= 0, got -1"),
        ({"retries": "3"}, InputError, r"retries expects a whole number >= 0, got '3'"),
        ({"timeout": "soon"}, InputError, r"timeout expects seconds, a datetime.timedelta or text"),
        ({"timeout": -5}, InputError, r"timeout must be positive"),
        ({"requests": {"cpu": "2"}}, InputError, r"`requests` expects plait.Resources\(cpu=..."),
        ({"limits": "4Gi"}, InputError, r"`limits` expects plait.Resources"),
        ({"accelerator": 100}, TypeMismatchError, r"expected a GPUAccelerator such as plait.A100"),
        ({"gpus": 1}, UserError, r"@task got unknown parameter\(s\) \['gpus'\]"),
    ],
    ids=["negative-retries", "text-retries", "bad-timeout", "negative-timeout",
         "dict-requests", "text-limits", "number-accelerator", "unknown-parameter"],
)
def test_bad_task_parameters_are_explained(params, error, message):
    with pytest.raises(error, match=message):

        @union.task(**params)
        def job(n: int) -> int:
            return n


def test_bad_task_parameters_name_the_task():
    with pytest.raises(InputError, match=r"task `.*careless`: retries expects"):

        @union.task(retries=1.5)
        def careless() -> None: ...


def test_bad_resource_quantities_are_explained():
    with pytest.raises(UserError, match="cpu"):
        union.Resources(cpu="lots")
    with pytest.raises(AttributeError, match="partition_9g_99gb"):
        union.A100.partition_9g_99gb  # noqa: B018


# ---- with_overrides ------------------------------------------------------------------


def test_with_overrides_are_shown_in_the_workflow_spec(resource):
    prog = resource("tasks/task_settings.py")
    first, second = prog.tuned_training.to_spec()["nodes"]
    assert "overrides" not in first
    overrides = second["overrides"]
    assert overrides["requests"] == {"cpu": "8", "mem": "32Gi"}
    assert overrides["limits"] == {"cpu": "16", "mem": "64Gi", "gpu": "2"}
    assert overrides["accelerator"]["device"] == "nvidia-tesla-a100"
    assert overrides["cache"]["policies"] == ["CacheFunctionBody"]
    assert overrides["retries"] == 4
    assert overrides["timeout"] == 600.0
    assert overrides["interruptible"] is False
    assert overrides["name"] == "prepare-big"


def test_with_overrides_take_effect_when_the_workflow_runs(resource):
    prog = resource("tasks/task_settings.py")
    run = execute(prog.tuned_training, {"rows": 5})
    assert run.native() == 20
    assert run.nodes["n1"].entity == "prepare-big"
    assert run.nodes["n1"].phase == SUCCEEDED
    again = execute(prog.tuned_training, {"rows": 5})
    assert again.nodes["n0"].phase == SUCCEEDED  # not cached
    assert again.nodes["n1"].phase == CACHE_HIT  # cache=True on this node only


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"gpus": 2}, CompileError, r"with_overrides\(\) on `.*prepare` got unknown setting\(s\) \['gpus'\]"),
        ({"retries": -2}, InputError, r"with_overrides\(\) on `.*prepare`: retries expects a whole number"),
        ({"timeout": "later"}, InputError, r"with_overrides\(\) on `.*prepare`: timeout expects seconds"),
        ({"requests": {"mem": "1Gi"}}, InputError, r"`requests` expects plait.Resources"),
        ({"interruptible": "yes"}, InputError, r"`interruptible` expects True or False"),
        ({"name": ""}, InputError, r"`name` expects a non-empty string"),
        ({"cache": "on"}, InputError, r"`cache` expects True, False or plait.Cache"),
    ],
    ids=["unknown", "retries", "timeout", "requests", "interruptible", "name", "cache"],
)
def test_bad_overrides_are_explained(resource, overrides, error, message):
    prog = resource("tasks/task_settings.py")
    with pytest.raises(error, match=message):

        @union.workflow
        def careless(rows: int) -> int:
            return prog.prepare(rows=rows).with_overrides(**overrides)


# ---- files between tasks ---------------------------------------------------------------


def test_file_written_in_the_working_directory_reaches_the_next_task(resource):
    prog = resource("tasks/file_handoff.py")
    count, report, scratch = prog.report_pipeline(lines=["alpha", "beta", "gamma"])
    assert count == 3
    assert not os.path.exists(scratch)  # the task's working directory is gone
    assert isinstance(report, union.FlyteFile)
    with open(report) as fh:
        assert fh.read() == "alpha\nbeta\ngamma"  # ... but the file survives


def test_directory_written_in_the_working_directory_reaches_the_next_task(resource):
    prog = resource("tasks/file_handoff.py")
    contents, folder, scratch = prog.bundle_pipeline(names=["b", "a"])
    assert contents == ["A", "B"]
    assert not os.path.exists(scratch)
    assert isinstance(folder, union.FlyteDirectory)
    assert sorted(os.listdir(folder)) == ["a.txt", "b.txt"]


def test_returned_file_survives_a_single_task_run(resource):
    prog = resource("tasks/file_handoff.py")
    report, scratch = prog.write_report(lines=["only"])
    assert not os.path.exists(scratch)
    with open(report) as fh:
        assert fh.read() == "only"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"interruptible": "yes"}, r"interruptible expects True or False, got 'yes'"),
        ({"secret_requests": ["API_KEY"]}, r"secret_requests expects plait.Secret objects, .*got 'API_KEY'"),
        ({"container_image": 123}, r"container_image expects an image name .* got int"),
        ({"pod_template": {"x": 1}}, r"pod_template expects a plait.PodTemplate, got dict"),
    ],
)
def test_bad_task_settings_are_refused_where_written(params: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):

        @union.task(**params)
        def t(x: int) -> int:
            return x

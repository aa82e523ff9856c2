"""Notifications, security settings and concurrency, as launch plans take them."""

from __future__ import annotations

import json

import pytest
from plait.config.concurrency import ConcurrencyLimitBehavior, ConcurrencyPolicy
from plait.config.notify import Email, Notification, PagerDuty, Slack, WorkflowExecutionPhase
from plait.config.security import (
    Annotations,
    AuthRole,
    Identity,
    Labels,
    OAuth2TokenRequest,
    RawOutputDataConfig,
    Secret,
    SecurityContext,
)
from plait.errors import InputError, TypeMismatchError, UserError


def roundtrip(obj):
    return type(obj).from_spec(json.loads(json.dumps(obj.to_spec())))


# ---- notifications --------------------------------------------------------


def test_documented_notifications():
    email = Email(
        phases=[WorkflowExecutionPhase.FAILED],
        recipients_email=["me@example.com", "you@example.com"],
    )
    pager = PagerDuty(
        phases=[WorkflowExecutionPhase.SUCCEEDED], recipients_email=["myboss@example.com"]
    )
    slack = Slack(
        phases=[
            WorkflowExecutionPhase.SUCCEEDED,
            WorkflowExecutionPhase.ABORTED,
            WorkflowExecutionPhase.TIMED_OUT,
        ],
        recipients_email=["your_slack_channel_email"],
    )
    assert email.fires_on(WorkflowExecutionPhase.FAILED)
    assert not email.fires_on(WorkflowExecutionPhase.SUCCEEDED)
    assert slack.to_spec() == {
        "channel": "slack",
        "phases": ["SUCCEEDED", "ABORTED", "TIMED_OUT"],
        "recipients_email": ["your_slack_channel_email"],
    }
    for n in (email, pager, slack):
        assert roundtrip(n) == n
        assert Notification.from_spec(n.to_spec()) == n


def test_phases_use_flyte_numbers_and_names():
    assert WorkflowExecutionPhase.SUCCEEDED == 4 and WorkflowExecutionPhase.ABORTING == 9
    assert [p.name for p in WorkflowExecutionPhase] == [
        "UNDEFINED",
        "QUEUED",
        "RUNNING",
        "SUCCEEDING",
        "SUCCEEDED",
        "FAILING",
        "FAILED",
        "ABORTED",
        "TIMED_OUT",
        "ABORTING",
    ]
    assert Email(phases=["failed", 4], recipients_email=["a@b.c"]).phases == (
        WorkflowExecutionPhase.FAILED,
        WorkflowExecutionPhase.SUCCEEDED,
    )


def test_notifying_on_a_phase_that_is_not_an_end_is_refused():
    with pytest.raises(
        InputError,
        match=r"^Email\(phases=\[<WorkflowExecutionPhase.RUNNING: 2>\]\): expected end "
        r"phases \(SUCCEEDED, FAILED, ABORTED or TIMED_OUT\), got RUNNING",
    ):
        Email(phases=[WorkflowExecutionPhase.RUNNING], recipients_email=["me@example.com"])


def test_unknown_phase_name_is_refused():
    with pytest.raises(
        InputError, match=r"expected phases from WorkflowExecutionPhase, got 'DONE'"
    ):
        Slack(phases=["DONE"], recipients_email=["chan@example.com"])


def test_no_phases_or_no_recipients_is_refused():
    with pytest.raises(
        InputError,
        match=r"expected at least one phase .*write phases=\[WorkflowExecutionPhase.FAILED\]",
    ):
        Email(phases=[], recipients_email=["me@example.com"])
    with pytest.raises(
        InputError, match=r"PagerDuty\(recipients_email=\[\]\): expected at least one recipient"
    ):
        PagerDuty(phases=[WorkflowExecutionPhase.FAILED], recipients_email=[])
    with pytest.raises(
        TypeMismatchError, match=r"expected each recipient to be a non-empty str, got ''"
    ):
        Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=[""])


def test_a_single_recipient_string_is_one_recipient():
    email = Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email="me@example.com")
    assert email.recipients_email == ("me@example.com",)


def test_notification_base_is_not_a_channel():
    with pytest.raises(TypeMismatchError, match="build Email, Slack or PagerDuty instead"):
        Notification(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["me@example.com"])


# ---- secrets and identities -----------------------------------------------


def test_union_style_secret_by_key():
    s = Secret(key="AUTH_API_KEY", env_var="AUTH_API_KEY")
    assert s.group is None and s.mount_requirement is Secret.MountType.ANY
    assert roundtrip(s) == s


def test_flyte_style_secret_by_group_and_key():
    s = Secret("aws", "access-key", mount_requirement=Secret.MountType.FILE)
    assert (s.group, s.key) == ("aws", "access-key")
    assert s.to_spec()["mount_requirement"] == "FILE"
    assert roundtrip(s) == s


def test_a_secret_must_be_named():
    with pytest.raises(
        InputError,
        match=r"^Secret\(\): expected a key or a group naming the secret, got neither; "
        r"write Secret\(key='MY_API_KEY'\)$",
    ):
        Secret()


def test_env_var_must_be_an_env_var_name():
    with pytest.raises(
        InputError, match=r"expected env_var to be an environment variable name .*write 'MY_KEY'"
    ):
        Secret(key="k", env_var="MY-KEY")


def test_env_var_contradicting_file_mount_is_refused():
    with pytest.raises(
        InputError, match="mount_requirement is FILE; drop env_var or use MountType.ENV_VAR"
    ):
        Secret(key="k", env_var="K", mount_requirement=Secret.MountType.FILE)


def test_security_context_documented_forms():
    ctx = SecurityContext(run_as=SecurityContext.K8sServiceAccount(name="my-service-account"))
    assert ctx.run_as == Identity(k8s_service_account="my-service-account")
    full = SecurityContext(
        run_as=SecurityContext.IAMRole("arn:aws:iam::1:role/r"),
        secrets=[Secret(key="a"), Secret("g", "b")],
        tokens=[
            OAuth2TokenRequest(
                "tok", "client", Secret(key="client-secret"), token_endpoint="https://idp/token"
            )
        ],
    )
    assert full.secrets == (Secret(key="a"), Secret("g", "b"))
    assert roundtrip(full) == full
    assert roundtrip(SecurityContext()) == SecurityContext()


def test_security_context_refuses_wrong_things():
    with pytest.raises(
        TypeMismatchError,
        match=r"expected an Identity, got str; write run_as=SecurityContext.K8sServiceAccount",
    ):
        SecurityContext(run_as="my-service-account")  # type: ignore[arg-type]
    with pytest.raises(TypeMismatchError, match=r"expected secrets to hold Secret objects, got 3"):
        SecurityContext(secrets=[3])  # type: ignore[list-item]


def test_auth_role_and_raw_output_config():
    role = AuthRole(assumable_iam_role="arn:aws:iam::12345678:role/my-execution-role")
    assert roundtrip(role) == role
    raw = RawOutputDataConfig(output_location_prefix="s3://my-bucket/workflow-outputs/")
    assert roundtrip(raw) == raw
    with pytest.raises(
        TypeMismatchError, match=r"expected a str such as 's3://bucket/prefix/', got int"
    ):
        RawOutputDataConfig(output_location_prefix=3)  # type: ignore[arg-type]
    with pytest.raises(
        TypeMismatchError, match="expected kubernetes_service_account to be a non-empty str or None"
    ):
        AuthRole(kubernetes_service_account="")


# ---- labels and annotations -----------------------------------------------


def test_documented_labels_and_annotations():
    labels = Labels({"team": "data-science", "env": "staging"})
    notes = Annotations({"description": "Launch plan for testing", "owner": "jane.doe"})
    assert labels.values == {"team": "data-science", "env": "staging"}
    assert roundtrip(labels) == labels and roundtrip(notes) == notes
    assert hash(labels) == hash(Labels({"env": "staging", "team": "data-science"}))
    assert Labels({"example.com/team": "", "a_b.c-d": "X_1"}).values["a_b.c-d"] == "X_1"


def test_label_value_with_spaces_suggests_a_fix_or_annotations():
    with pytest.raises(
        InputError,
        match=r"label 'description' has value 'Launch plan for testing'.*"
        r"write 'Launch-plan-for-testing' or move it to Annotations",
    ):
        Labels({"description": "Launch plan for testing"})


def test_label_keys_follow_kubernetes_rules():
    with pytest.raises(
        InputError,
        match=r"^Labels\(\{'-team': 'ml'\}\): label key '-team' is not a valid Kubernetes key",
    ):
        Labels({"-team": "ml"})
    with pytest.raises(
        InputError, match=r"annotation key 'Example.com/owner' is not a valid Kubernetes key"
    ):
        Annotations({"Example.com/owner": "jane"})
    with pytest.raises(InputError, match="is not a valid Kubernetes key"):
        Labels({"x" * 64: "v"})


def test_label_values_must_be_strings():
    with pytest.raises(
        TypeMismatchError, match=r"label 'replicas': 3 must map str to str.*quote the value: '3'"
    ):
        Labels({"replicas": 3})  # type: ignore[dict-item]


def test_errors_are_user_errors():
    with pytest.raises(UserError):
        Labels({"bad key": "v"})


# ---- concurrency ----------------------------------------------------------


def test_documented_concurrency_policy():
    policy = ConcurrencyPolicy(max_concurrency=3, behavior=ConcurrencyLimitBehavior.SKIP)
    assert policy.allows(2) and not policy.allows(3) and not policy.allows(4)
    assert policy.to_spec() == {"max_concurrency": 3, "behavior": "SKIP"}
    assert roundtrip(policy) == policy
    assert ConcurrencyPolicy(1).behavior is ConcurrencyLimitBehavior.SKIP


@pytest.mark.parametrize("n", [0, -1])
def test_max_concurrency_below_one_is_refused(n):
    with pytest.raises(
        InputError,
        match=rf"^ConcurrencyPolicy\(max_concurrency={n}\): expected at least 1 "
        rf"concurrent execution, got {n}; use 1 to run one at a time",
    ):
        ConcurrencyPolicy(max_concurrency=n)


@pytest.mark.parametrize("n", [1.5, "3", True])
def test_max_concurrency_must_be_an_int(n):
    with pytest.raises(TypeMismatchError, match=r"expected an int of at least 1"):
        ConcurrencyPolicy(max_concurrency=n)  # type: ignore[arg-type]


def test_unknown_behavior_is_refused():
    with pytest.raises(InputError, match="SKIP is the only behavior"):
        ConcurrencyPolicy(2, behavior="QUEUE")  # type: ignore[arg-type]

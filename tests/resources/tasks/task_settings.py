"""Tasks that use the parameters of the "Task parameters" chapter."""

from datetime import timedelta

import plait as union

training_image = union.ImageSpec(
    name="trainer",
    packages=["scikit-learn==1.5.0"],
    registry="ghcr.io/example-org",
)


@union.task(
    requests=union.Resources(cpu="2", mem="4Gi", ephemeral_storage="10Gi"),
    limits=union.Resources(cpu="4", mem="8Gi", gpu="1"),
    accelerator=union.A100.partition_2g_10gb,
    interruptible=True,
    retries=3,
    timeout=timedelta(hours=1),
    container_image=training_image,
    secret_requests=[union.Secret(group="warehouse", key="token")],
    environment={"LOG_LEVEL": "debug"},
    pod_template=union.PodTemplate(primary_container_name="trainer", labels={"team": "ml"}),
    enable_deck=True,
    docs="Fits the model on a slice of an A100.",
)
def fit_model(epochs: int) -> float:
    return 1.0 - 1.0 / (epochs + 1)


@union.task(accelerator=union.T4, container_image="ghcr.io/example-org/scorer:1.0")
def score_model(accuracy: float) -> str:
    return f"{accuracy:.2f}"


@union.task
def prepare(rows: int) -> int:
    return rows * 2


@union.workflow
def tuned_training(rows: int) -> int:
    small = prepare(rows=rows)
    big = prepare(rows=small).with_overrides(
        requests=union.Resources(cpu="8", mem="32Gi"),
        limits=union.Resources(cpu="16", mem="64Gi", gpu="2"),
        accelerator=union.A100,
        cache=True,
        retries=4,
        timeout="10m",
        interruptible=False,
        name="prepare-big",
    )
    return big

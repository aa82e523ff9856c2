"""Two apps next to a training workflow: a Panel page of the latest scores, and a scoring API.

The page runs `panel serve` on the included `scores_page.py`; the API is a FastAPI
app that the backend serves with uvicorn, given the latest `churn-model` artifact
as a downloaded file named by $CHURN_MODEL and an API key from a secret.
"""

from datetime import timedelta

import plait as union
from fastapi import FastAPI

ChurnModel = union.Artifact(name="churn-model", partition_keys=["region"])

page = union.app.App(
    name="churn-scores",
    container_image="ghcr.io/example/panel:1.4",
    args="panel serve scores_page.py --port 8080 --address 0.0.0.0",
    port=8080,
    include=["scores_page.py", "data"],  # a folder: every file in it
    inputs=[union.app.Input(name="region", value="eu", env_var="SCORES_REGION")],
    limits=union.Resources(cpu="1", mem="1Gi"),
    env={"PANEL_LOG_LEVEL": "info"},
)

api = FastAPI(title="churn scoring")


@api.get("/score")
def score(tenure_months: float, monthly_spend: float) -> dict[str, float]:
    return {"churn": max(0.0, min(1.0, 0.8 - tenure_months / 60 + monthly_spend / 500))}


scoring = union.app.App(
    name="churn-scoring-api",
    container_image=union.ImageSpec(name="churn-api", packages=["fastapi", "uvicorn", "scikit-learn"]),
    framework_app=api,
    port=8082,
    inputs=[union.app.Input(name="model", value=ChurnModel.query(region="eu"), download=True,
                            env_var="CHURN_MODEL")],
    secrets=[union.Secret(key="SCORING_API_KEY", env_var="SCORING_API_KEY")],
    requires_auth=False,
    requests=union.Resources(cpu="500m", mem="512Mi"),
    limits=union.Resources(cpu="2", mem="2Gi"),
    min_replicas=1,
    max_replicas=3,
    scaledown_after=timedelta(minutes=15),
)

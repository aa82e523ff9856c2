"""Serve the latest `regressor` artifact with FastAPI: the file is downloaded next to the app and
its path handed over in MODEL_FILE."""

import os
from contextlib import asynccontextmanager

import joblib
import plait
from fastapi import FastAPI

Regressor = plait.Artifact(name="regressor")
loaded = {}


@asynccontextmanager
async def lifespan(app: FastAPI):
    loaded["model"] = joblib.load(os.environ["MODEL_FILE"])
    loaded["file"] = os.environ["MODEL_FILE"]
    yield


api = FastAPI(lifespan=lifespan)


@api.get("/predict")
def predict(x: float, y: float) -> dict[str, float]:
    return {"result": float(loaded["model"].predict([[x, y]])[0])}


@api.get("/model")
def model() -> dict[str, str]:
    return {"file": loaded["file"]}


regressor_app = plait.app.App(
    name="regressor-api",
    inputs=[plait.app.Input(value=Regressor.query(), download=True, env_var="MODEL_FILE")],
    framework_app=api,
    limits=plait.Resources(cpu="1", mem="1Gi"),
    port=8082,
)

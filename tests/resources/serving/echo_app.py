"""A FastAPI app served by plait: it echoes what it is asked and says where it runs."""

import asyncio
import os

import plait
from fastapi import FastAPI, Request

api = FastAPI()


@api.get("/")
def hello() -> dict[str, str]:
    return {"hello": "world", "greeting": os.environ.get("GREETING", "")}


@api.get("/echo")
def echo(text: str, request: Request) -> dict[str, str]:
    return {"text": text, "root_path": request.scope.get("root_path", ""),
            "prefix": request.headers.get("x-forwarded-prefix", ""), "port": os.environ.get("PORT", "")}


@api.get("/slow")
async def slow(seconds: float) -> dict[str, float]:
    await asyncio.sleep(seconds)
    return {"slept": seconds}


echo_app = plait.app.App(
    name="echo",
    framework_app=api,
    port=8082,
    env={"GREETING": "bonjour"},
    limits=plait.Resources(cpu="1", mem="1Gi"),
    scaledown_after=600,
)

echo_scaled = plait.app.App(
    name="echo-scaled",
    framework_app=api,
    port=8082,
    min_replicas=1,
    max_replicas=2,
)

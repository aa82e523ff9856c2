"""A public FastAPI app that checks its own API key (a secret), so plait's login is not asked."""

import os

import plait
from fastapi import Depends, FastAPI, HTTPException, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

api = FastAPI()
bearer = HTTPBearer(auto_error=False)


def caller(credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> str:
    if credentials is None or credentials.credentials != os.environ["SERVICE_KEY"]:
        raise HTTPException(status_code=403, detail="Could not validate the API key")
    return "ok"


@api.get("/")
def root(who: str = Depends(caller)) -> dict[str, str]:
    return {"message": "hello, key holder"}


keyed = plait.app.App(
    name="keyed-api",
    secrets=[plait.Secret(key="service_key", env_var="SERVICE_KEY")],
    framework_app=api,
    port=8082,
    requires_auth=False,
)

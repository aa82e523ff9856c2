"""Apps the backend refuses at deploy, each for one reason."""

import plait
from fastapi import FastAPI

api = FastAPI()
Missing = plait.Artifact(name="never-made")

needs_gpu = plait.app.App(name="needs-gpu", framework_app=api, limits=plait.Resources(gpu="1"))
unknown_secret = plait.app.App(name="unknown-secret", framework_app=api,
                               secrets=[plait.Secret(key="no_such_key", env_var="NO_SUCH_KEY")])
no_version = plait.app.App(name="no-version", framework_app=api,
                           inputs=[plait.app.Input(value=Missing.query(), env_var="MISSING")])

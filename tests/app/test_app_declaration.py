"""`plait.app.App(...)`: what a declaration accepts, and the error each mistake gets.

Every error names the parameter, what was expected, what was found and the fix,
and is raised on the `App(...)` line, before anything reaches a backend.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import plait
import plait as union
import pytest
from plait.app import App, AppDeclarationError, Input
from plait.errors import InputError, TypeMismatchError, UserError


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:  # the smallest ASGI app
    pass


class Service:
    """An ASGI app written as a class: its instances are the app."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        pass


def wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
    return [b""]


service = Service()
Model = union.Artifact(name="model", partition_keys=["region"])


def test_import_plait_as_union_declares_an_app_through_the_attribute() -> None:
    app = union.app.App(name="streamlit-hello", args="streamlit hello --server.port 8080",
                        limits=union.Resources(cpu="1", mem="1Gi"))
    assert (app.name, app.args, app.port, app.min_replicas, app.max_replicas) == (
        "streamlit-hello", ["streamlit", "hello", "--server.port", "8080"], 8080, 0, 1)
    assert app.requires_auth is True and app.limits == plait.Resources(cpu="1", mem="1Gi")
    assert plait.app.App is App and "app" in dir(plait)


def test_a_framework_app_needs_no_command_and_names_module_and_attribute() -> None:
    app = App(name="asgi", framework_app=service, port=8082)
    assert app.args is None and app.command is None
    assert app.framework_entrypoint() == "test_app_declaration:service"
    assert App(name="fn", framework_app=asgi_app).framework_entrypoint() == "test_app_declaration:asgi_app"
    assert App(name="text", framework_app="main:api").framework_entrypoint() == "main:api"


def test_scaledown_after_takes_seconds_or_a_timedelta() -> None:
    assert App(name="a", args="x", scaledown_after=dt.timedelta(minutes=2)).scaledown_after == 120.0
    assert App(name="a", args="x", scaledown_after=30).scaledown_after == 30.0
    assert App(name="a", args=["x", "--flag"]).args == ["x", "--flag"]


def bad(**kwargs: Any) -> dict[str, Any]:
    return {"name": "my-app", "args": "panel serve main.py", **kwargs}


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        # ports
        (bad(port=0), AppDeclarationError,
         r"App 'my-app': port expects a TCP port from 1 to 65535, got 0; write port=8080"),
        (bad(port=70000), AppDeclarationError, r"port expects a TCP port from 1 to 65535, got 70000"),
        (bad(port="8080"), AppDeclarationError, r"port expects a TCP port from 1 to 65535, got '8080'"),
        (bad(port=8786), AppDeclarationError,
         r"port expects a port the platform does not use, got 8786; 8786 is the Dask scheduler; write port=8080"),
        (bad(port=8742), AppDeclarationError, r"8742 is the plait backend's API"),
        # include
        (bad(include=["no_such_module.py"]), AppDeclarationError,
         r"include expects files or folders that exist relative to .*tests/app, got 'no_such_module.py'; no such file at "
         r".*no_such_module.py; check the name or create the file"),
        (bad(include=["../resources"]), AppDeclarationError,
         r"include expects paths inside the app's folder .*, got '../resources'; move the file next to the app"),
        (bad(include="main.py"), TypeMismatchError, r"include expects a list of file paths, got <str>"),
        # replicas
        (bad(min_replicas=3, max_replicas=2), AppDeclarationError,
         r"min_replicas expects at most max_replicas \(2\), got 3; raise max_replicas to 3 or lower min_replicas"),
        (bad(min_replicas=-1), AppDeclarationError, r"min_replicas expects a whole number >= 0, got -1"),
        (bad(max_replicas=-2), AppDeclarationError, r"max_replicas expects a whole number >= 0, got -2"),
        (bad(max_replicas=0), AppDeclarationError,
         r"max_replicas expects at least 1 \(the app could never run\), got 0; write max_replicas=1"),
        (bad(min_replicas=1.5), TypeMismatchError, r"min_replicas expects a whole number >= 0, got 1.5"),
        # args, command, framework_app
        ({"name": "my-app"}, AppDeclarationError,
         r"args expects the command line that starts the app \(or command, or framework_app\), got None; "
         r"write args='panel serve main.py --port 8080' or framework_app=app"),
        (bad(command="python main.py"), AppDeclarationError,
         r"args expects either args or command, not both, got <both>; keep args .* and drop command"),
        (bad(framework_app=service), AppDeclarationError,
         r"args expects no args when framework_app is given \(the backend serves it with uvicorn\)"),
        (bad(args="", ), AppDeclarationError, r"args expects a command line, got ''"),
        ({"name": "my-app", "framework_app": wsgi_app}, TypeMismatchError,
         r"framework_app expects an ASGI app \(a callable taking scope, receive, send\), got <function "
         r"wsgi_app>; it looks like a WSGI app"),
        ({"name": "my-app", "framework_app": Service}, TypeMismatchError,
         r"framework_app expects an ASGI app .*such as a FastAPI\(\) instance, got <type>; pass the app "
         r"instance \(app = FastAPI\(\)\), not its class"),
        ({"name": "my-app", "framework_app": 42}, TypeMismatchError, r"framework_app expects an ASGI app"),
        ({"name": "my-app", "framework_app": "main.py"}, AppDeclarationError,
         r"framework_app expects an ASGI app object, or 'module:attribute', got 'main.py'"),
        # names
        ({"name": "My_App", "args": "x"}, AppDeclarationError,
         r"App: name expects a DNS label: 1 to 63 lowercase letters, digits or '-', .*got 'My_App'; "
         r"write name='my-app'"),
        ({"name": "-x", "args": "x"}, AppDeclarationError, r"name expects a DNS label.*got '-x'; write name='x'"),
        ({"name": "a" * 64, "args": "x"}, AppDeclarationError, r"name expects a DNS label"),
        ({"name": 7, "args": "x"}, AppDeclarationError, r"name expects a DNS label.*got 7"),
        # inputs
        (bad(inputs=[Input(value="eu", name="region"), Input(value="us", name="region")]), AppDeclarationError,
         r"inputs expects a different name for each input, got \['region'\]; rename the name of one of them"),
        (bad(inputs=[Input(value="a", env_var="REGION"), Input(value="b", env_var="REGION")]),
         AppDeclarationError, r"inputs expects a different env_var for each input, got \['REGION'\]"),
        (bad(inputs=["eu"]), TypeMismatchError,
         r"inputs expects a list of plait.app.Input, got <str>; wrap the value: plait.app.Input"),
        # secrets and environment
        (bad(secrets=["API_KEY"]), TypeMismatchError,
         r"secrets expects a list of plait.Secret, got 'API_KEY'; write plait.Secret\(key='API_KEY', env_var=...\)"),
        (bad(secrets=union.Secret(key="K")), TypeMismatchError, r"secrets expects a list of plait.Secret, got <Secret>"),
        (bad(env={"API_KEY": "x"}, secrets=[union.Secret(key="K", env_var="API_KEY")]), AppDeclarationError,
         r"secrets expects an environment variable that env does not set already, got 'API_KEY'"),
        (bad(env={"log-level": "info"}), AppDeclarationError,
         r"env expects environment variable names such as 'LOG_LEVEL', got 'log-level'; write 'LOG_LEVEL'"),
        (bad(env={"PORT_COUNT": 3}), TypeMismatchError, r"env expects str values, got 3; quote it: '3'"),
        # resources, image, scaling, auth
        (bad(requests=union.Resources(cpu="4"), limits=union.Resources(cpu="2")), AppDeclarationError,
         r"requests expects cpu at most the limit \(2\), got '4'; raise limits.cpu or lower requests.cpu"),
        (bad(limits={"cpu": "1"}), TypeMismatchError, r"limits expects plait.Resources or None, got <dict>"),
        (bad(container_image=3), TypeMismatchError, r"container_image expects an image name \(str\), an ImageSpec"),
        (bad(scaledown_after=-5), AppDeclarationError, r"scaledown_after expects a duration >= 0, got -5"),
        (bad(scaledown_after="10m"), TypeMismatchError,
         r"scaledown_after expects seconds \(int or float\) or a datetime.timedelta, got <str>"),
        (bad(requires_auth="no"), TypeMismatchError, r"requires_auth expects True or False, got 'no'"),
        (bad(accelerator=3), TypeMismatchError, r"accelerator expects a GPUAccelerator"),
    ],
)
def test_a_bad_declaration_names_the_parameter_expected_found_and_fix(
    kwargs: dict[str, Any], error: type[Exception], pattern: str
) -> None:
    with pytest.raises(error, match=pattern) as caught:
        App(**kwargs)
    assert isinstance(caught.value, UserError)
    if isinstance(caught.value, AppDeclarationError):
        parameter = re.search(r": (\w+) expects", str(caught.value))
        assert parameter and caught.value.parameter == parameter.group(1)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"value": object()}, TypeMismatchError,
         r"Input: value expects a str, int, float or bool, or an artifact query \(Artifact.query\(\)\), got "
         r"<object>; pass the value as text, or emit it as an artifact"),
        ({"value": "x", "env_var": "model-path"}, AppDeclarationError,
         r"Input: env_var expects an environment variable name such as 'MODEL_PATH', got 'model-path'; "
         r"write env_var='MODEL_PATH'"),
        ({"value": "x", "name": "my model"}, AppDeclarationError, r"Input\(name='my model'\): name expects a name"),
        ({"value": 3, "download": True}, AppDeclarationError,
         r"download expects a URI or an artifact query to download, got 3; drop download=True"),
        ({"value": Model.query(region=union.Inputs.region)}, AppDeclarationError,
         r"value expects an artifact query with literal partition values"),
    ],
)
def test_a_bad_input_is_refused_where_it_is_made(kwargs: dict[str, Any], error: type[Exception],
                                                 pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        Input(**kwargs)


def test_errors_are_value_and_type_errors_for_code_that_catches_builtins() -> None:
    with pytest.raises(ValueError):
        App(name="x", args="y", port=0)
    with pytest.raises(TypeError):
        App(name="x", framework_app=wsgi_app)
    assert issubclass(AppDeclarationError, InputError)

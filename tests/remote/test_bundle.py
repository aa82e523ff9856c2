"""Code bundles: the names, sources and by-value functions that a registration ships."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import cloudpickle
import pytest
from plait.errors import UserError
from plait.remote.bundle import collect

MY_EXAMPLE = '''
import plait as union


@union.task
def task_1(a: int, b: int, c: int) -> int:
    return a + b + c


@union.task
def task_2(m: int, n: int) -> int:
    return m * n


@union.task
def task_3(x: int, y: int) -> int:
    return x - y


@union.workflow
def my_workflow(a: int, b: int, c: int, m: int, n: int) -> int:
    x = task_1(a=a, b=b, c=c)
    y = task_2(m=m, n=n)
    return task_3(x=x, y=y)
'''


@pytest.fixture(autouse=True)
def fresh_imports(tmp_path_factory: pytest.TempPathFactory):
    """Each test imports its own project: forget its modules and sys.path entries afterwards."""
    modules, path = set(sys.modules), list(sys.path)
    base = str(tmp_path_factory.getbasetemp())
    yield
    for name in set(sys.modules) - modules:
        file = getattr(sys.modules[name], "__file__", None)
        if file is None or file.startswith(base):
            del sys.modules[name]
    sys.path[:] = path


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def members(blob: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        return {m.name: m for m in tar.getmembers()}


def forget(prefix: str) -> None:
    for name in [m for m in sys.modules if m == prefix or m.startswith(prefix + ".")]:
        del sys.modules[name]


def test_a_folder_names_entities_folder_file_function(tmp_path: Path) -> None:
    write(tmp_path, {"workflows/my_example.py": MY_EXAMPLE})
    reg = collect([tmp_path / "workflows"])
    names = [s["name"] for s in reg.specs]
    assert names == [
        "workflows.my_example.task_1",
        "workflows.my_example.task_2",
        "workflows.my_example.task_3",
        "workflows.my_example.my_workflow",
    ]
    assert reg.files == ("workflows/my_example.py",)
    assert reg.modules == ("workflows.my_example",)
    task = reg.specs[0]
    assert task["code"]["bundle"] == reg.digest
    assert task["code"]["module"] == "workflows.my_example"
    assert task["code"]["qualname"] == "task_1"
    assert "pickle" not in task["code"]
    assert reg.python_version == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert reg.functions == {}


def test_the_digest_depends_on_the_sources_only(tmp_path: Path) -> None:
    project = write(tmp_path, {"workflows/my_example.py": MY_EXAMPLE,
                               "workflows/helpers.py": "def k():\n    return 1\n"})
    first = collect([project / "workflows"])
    assert first.digest is not None and len(first.digest) == 64

    forget("workflows")
    os.utime(project / "workflows" / "my_example.py", (1, 1))  # other mtimes, same text
    (project / "workflows" / "__pycache__").mkdir(exist_ok=True)
    (project / "workflows" / "__pycache__" / "junk.pyc").write_bytes(b"x")
    again = collect([project / "workflows"])
    assert again.bundle == first.bundle and again.digest == first.digest
    assert again.version == first.version

    info = members(again.bundle)
    assert list(info) == ["workflows/helpers.py", "workflows/my_example.py"]
    assert {m.mtime for m in info.values()} == {315532800}
    assert {(m.uid, m.gid, m.uname, m.mode) for m in info.values()} == {(0, 0, "", 0o644)}

    forget("workflows")
    (project / "workflows" / "helpers.py").write_text("def k():\n    return 2\n")
    changed = collect([project / "workflows"])
    assert changed.digest != first.digest
    assert changed.version != first.version


def test_a_package_keeps_its_package_names_and_inits(tmp_path: Path) -> None:
    write(tmp_path / "src", {
        "shop/__init__.py": "",
        "shop/util.py": "RATE = 3\n",
        "shop/flows/__init__.py": "",
        "shop/flows/pricing.py": """
            import plait
            from ..util import RATE

            @plait.task
            def price(n: int) -> int:
                return n * RATE

            @plait.workflow
            def quote(n: int) -> int:
                return price(n=n)

            weekly = plait.LaunchPlan.get_or_create(quote, "weekly_quote", default_inputs={"n": 2})
            default = plait.LaunchPlan.get_or_create(quote)
        """,
    })
    reg = collect([tmp_path / "src" / "shop"])
    by_name = {(s["kind"], s["name"]): s for s in reg.specs}
    assert set(by_name) == {
        ("task", "shop.flows.pricing.price"),
        ("workflow", "shop.flows.pricing.quote"),
        ("launch_plan", "shop.flows.pricing.quote"),  # the default launch plan: the workflow's name
        ("launch_plan", "weekly_quote"),
    }
    assert reg.files == ("shop/__init__.py", "shop/flows/__init__.py", "shop/flows/pricing.py",
                         "shop/util.py")
    lp = by_name["launch_plan", "weekly_quote"]
    assert lp["kind"] == "launch_plan"
    assert lp["code"] == {"bundle": reg.digest, "module": "shop.flows.pricing", "qualname": "weekly"}

    # One file of the package: named from above the package; its imports travel too.
    forget("shop")
    single = collect([tmp_path / "src" / "shop" / "flows" / "pricing.py"])
    assert single.modules == ("shop.flows.pricing",)
    assert single.files == reg.files


def test_a_worker_finds_each_entity_by_module_and_qualname(tmp_path: Path) -> None:
    write(tmp_path, {"workflows/my_example.py": MY_EXAMPLE})
    reg = collect([tmp_path / "workflows"])
    unpacked = tmp_path / "unpacked"
    with tarfile.open(fileobj=io.BytesIO(reg.bundle), mode="r:gz") as tar:
        tar.extractall(unpacked, filter="data")
    codes = [[s["name"], s["code"]["module"], s["code"]["qualname"]] for s in reg.specs]
    script = textwrap.dedent(f"""
        import importlib, json, sys
        sys.path.insert(0, {str(unpacked)!r})
        for name, module, qualname in json.loads({json.dumps(codes)!r}):
            obj = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
            assert obj.name == name, (obj.name, name)
        task = importlib.import_module("workflows.my_example").task_1
        print(task.function(a=1, b=2, c=3))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "6"


def test_notebook_entities_go_by_value_with_the_helpers_beside_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"nb_helpers.py": "def twice(x):\n    return 2 * x\n"})
    monkeypatch.chdir(tmp_path)
    sys.path.insert(0, str(tmp_path))
    cell = textwrap.dedent("""
        import plait
        import nb_helpers

        @plait.task
        def double(x: int) -> int:
            return nb_helpers.twice(x)

        @plait.workflow
        def wf(x: int) -> int:
            return double(x=x)
    """)
    namespace: dict[str, object] = {"__name__": "__main__"}  # what a notebook cell runs in
    exec(compile(cell, "<cell>", "exec"), namespace)
    reg = collect([namespace["wf"]])

    task = next(s for s in reg.specs if s["kind"] == "task")
    assert task["code"]["module"] is None
    assert task["code"]["qualname"] == "double"
    digest = task["code"]["pickle"]
    assert set(reg.functions) == {digest}
    assert reg.files == ("nb_helpers.py",)  # the module the pickle imports by name
    assert task["code"]["bundle"] == reg.digest

    loaded = cloudpickle.loads(reg.functions[digest])
    assert loaded.name == task["name"]
    assert loaded.function(x=4) == 8
    workflow = next(s for s in reg.specs if s["kind"] == "workflow")
    assert "pickle" not in workflow["code"]


def test_the_payload_gives_every_spec_the_registration_version(tmp_path: Path) -> None:
    write(tmp_path, {"workflows/my_example.py": MY_EXAMPLE})
    reg = collect([tmp_path / "workflows"])
    body = reg.payload("default", "development")
    assert body["version"] == reg.version
    assert {s["version"] for s in body["specs"]} == {reg.version}
    assert body["bundle_digest"] == reg.digest and body["python_version"] == reg.python_version
    assert {s["version"] for s in reg.payload("p", "staging", "v1")["specs"]} == {"v1"}


def test_bad_paths_say_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file or folder"):
        collect([tmp_path / "missing"])
    notebook = tmp_path / "analysis.ipynb"
    notebook.write_text("{}")
    with pytest.raises(UserError, match="plait export"):
        collect([notebook])
    write(tmp_path, {"broken/bad.py": "import does_not_exist_anywhere\n"})
    with pytest.raises(UserError, match=r"cannot import .*bad.py as `broken.bad`: ModuleNotFoundError"):
        collect([tmp_path / "broken"])

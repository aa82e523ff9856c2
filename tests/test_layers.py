"""The import contract: every module imports only from its own layer or the layers below.

The kernel (`plait`) is grouped by layer, one folder each:

    0  errors, model            what crosses a boundary; the standard library only
    1  typesys, config          Python types <-> type specs; settings objects
    2  sdk, task_types, artifacts, app   what users write: definitions, which run nothing
    3  run                      the local engine and the attempt runner
    4  remote                   the backend over HTTP
    5  cli, notebook, dashboards   surfaces

A module-level import must point to the same layer or below. An import inside a
function may point upwards only where `LAZY_UPWARD` lists it with its reason.
The backend (`plait.backend`, and `plait.workspaces` beside it) may import only
the shared model, the type system, the configuration objects and the public
attempt runner, and never a private name. The lab's server extension
(`plait.lab`) is a surface like the CLI. This test parses every module's
imports, so the rules are checked, not remembered.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"plait": ROOT / "kernel", "plait.backend": ROOT / "backend",
           "plait.workspaces": ROOT / "workspaces", "plait.lab": ROOT / "jupyter_ext" / "server"}

LAYERS = {
    "errors": 0, "model": 0, "_moved": 0,
    "typesys": 1, "config": 1, "models": 1,
    "sdk": 2, "task_types": 2, "artifacts": 2, "types": 2, "extend": 2, "core": 2, "testing": 2,
    "experimental": 2, "exceptions": 2, "extras": 2, "app": 2,
    "run": 3, "environments": 3,
    "remote": 4, "configuration": 4,
    "cli": 5, "notebook": 5, "__main__": 5, "dashboards": 5,
}
LAYER_NAMES = ["errors, model", "typesys, config", "sdk, task_types, artifacts", "run", "remote",
               "cli, notebook"]

# (importer, imported) -> why an import inside a function may point upwards.
LAZY_UPWARD: dict[tuple[str, str], str] = {
    ("plait.sdk.entity", "plait.run.engine"): "calling an entity outside a workflow runs it",
    ("plait.typesys.transformers", "plait.sdk.flyte_context"):
        "a custom type transformer is given the current Flyte context (`ctx.file_access`)",
    ("plait.cli", "plait.backend.server"): "`plait server` starts the backend",
    ("plait.cli.cluster", "plait.backend.compute"): "`plait cluster manifests` reads the backend's cluster file",
    ("plait.cli.worker", "plait.backend.compute"): "`plait worker` reads the cluster file and starts a pool's Dask workers",
    ("plait.cli.worker", "plait.backend.compute.pools"): "`plait worker` starts a pool's Dask workers as the server does",
    ("plait.cli.worker", "plait.backend.security"): "`plait worker` joins the cluster with its TLS files",
}

# Kernel modules the backend may use (a module, or a package and everything in it).
BACKEND_MAY_IMPORT = ("plait.errors", "plait.model", "plait.typesys", "plait.config",
                      "plait.environments")
BACKEND_EXTRA = {"plait.backend.execution.worker": ("plait.run.attempt",)}

# Edges that break the rules today, each to be removed with the change that mends it.
NOT_YET: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    name: str | None  # the name taken from the module (`from m import name`), if any
    line: int
    lazy: bool
    file: Path


def module_name(path: Path, package: str, folder: Path) -> str:
    parts = list(path.relative_to(folder).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def exists(module: str) -> bool:
    for package, folder in sorted(FOLDERS.items(), key=lambda kv: -len(kv[0])):
        if module == package or module.startswith(package + "."):
            rest = module[len(package):].lstrip(".").split(".") if module != package else []
            base = folder.joinpath(*rest)
            return base.with_suffix(".py").exists() or (base / "__init__.py").exists()
    return False


def edges_of(path: Path, module: str) -> list[Edge]:
    """Every import of a plait module in `path`, resolved to absolute module names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Edge] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # for type checkers only
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "plait":
                        found.append(Edge(module, alias.name, None, child.lineno, lazy, path))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.split(".")[0] == "plait":
                    for alias in child.names:
                        sub = f"{target}.{alias.name}"
                        if exists(sub):  # `from plait.sdk import context`
                            found.append(Edge(module, sub, None, child.lineno, lazy, path))
                        else:
                            found.append(Edge(module, target, alias.name, child.lineno, lazy, path))
            visit(child, lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, False)
    return found


def all_edges() -> list[Edge]:
    edges = []
    for package, folder in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            module = module_name(path, package, folder)
            if package == "plait" and module.split(".")[:2] in (["plait", "backend"], ["plait", "lab"]):
                continue
            edges.extend(edges_of(path, module))
    return edges


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def side(module: str) -> str:
    for package in ("plait.backend", "plait.workspaces", "plait.lab"):
        if module == package or module.startswith(package + "."):
            return package
    return "plait"


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def problem(edge: Edge) -> str | None:
    """Why this import breaks the contract, or None when it keeps it."""
    where = f"{edge.file.relative_to(ROOT)}:{edge.line}"
    importer, imported = edge.importer, edge.imported
    source, target = side(importer), side(imported)
    if source == target and source != "plait":
        return None  # inside the backend, the workspaces or the lab
    if source in ("plait.backend", "plait.workspaces"):
        if target != "plait":
            return None if target in ("plait.backend", "plait.workspaces") else (
                f"{where}: {importer} imports {imported}: the backend may not import the lab")
        allowed = BACKEND_MAY_IMPORT + BACKEND_EXTRA.get(importer, ())
        if not within(imported, allowed):
            return (f"{where}: {importer} imports {imported}: the backend may import only "
                    f"{', '.join(allowed)} from plait (the rule of plait.backend); move what it "
                    "needs into plait.model")
        if edge.name and edge.name.startswith("_"):
            return (f"{where}: {importer} imports the private name {imported}.{edge.name}: the "
                    "backend uses public names only; make it public where it lives")
        return None
    if source == "plait.lab":
        if target == "plait" and (layer(imported) is not None or imported == "plait"):
            return None
        return f"{where}: {importer} imports {imported}: the lab talks to the backend over HTTP only"
    # the kernel
    if target != "plait":
        if (importer, imported) in LAZY_UPWARD and edge.lazy:
            return None
        return (f"{where}: {importer} imports {imported}: the kernel (import plait) never imports "
                "the backend; list a lazy edge in LAZY_UPWARD only for a command that starts it")
    if importer in ("plait", "plait.__main__") or imported == "plait":
        if imported == "plait" and edge.name and not edge.name.startswith("__"):
            return (f"{where}: {importer} imports {edge.name} from the plait facade: import it from "
                    "the module that defines it")
        return None  # the facade re-exports everything lazily
    low, high = layer(importer), layer(imported)
    for module, number in ((importer, low), (imported, high)):
        if number is None:
            return f"{where}: {module} belongs to no layer; add its folder to LAYERS in {__file__}"
    assert low is not None and high is not None
    if high <= low:
        return None
    if edge.lazy and (importer, imported) in LAZY_UPWARD:
        return None
    how = "an import inside a function" if edge.lazy else "a module-level import"
    return (f"{where}: {importer} (layer {low}: {LAYER_NAMES[low]}) imports {imported} "
            f"(layer {high}: {LAYER_NAMES[high]}) in {how}; imports point downwards. Move the "
            "shared code down a layer, or import it inside a function and list the edge in "
            "LAZY_UPWARD with the reason")


def violations(edges: list[Edge]) -> list[str]:
    kept = [e for e in edges if (e.importer, e.imported) not in NOT_YET]
    return list(dict.fromkeys(p for p in map(problem, kept) if p is not None))


def test_every_import_follows_the_layer_order() -> None:
    found = violations(all_edges())
    assert not found, "\n".join(found)


SERVER_LIBRARIES = ("sqlalchemy", "fastapi", "uvicorn", "alembic", "distributed", "dask", "psycopg")


def test_the_kernel_imports_no_server_library_at_module_level() -> None:
    """`pip install plait` in a task image stays light: the backend's libraries load with it only."""
    found = []
    for path in sorted((ROOT / "kernel").rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                     else [])
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names
                      if n.split(".")[0] in SERVER_LIBRARIES]
    assert not found, found


def test_every_listed_upward_edge_still_exists() -> None:
    edges = all_edges()
    lazy = {(e.importer, e.imported) for e in edges if e.lazy}
    stale = sorted(set(LAZY_UPWARD) - lazy)
    assert not stale, f"LAZY_UPWARD lists edges the code no longer has: {stale}"
    mended = sorted(NOT_YET - {(e.importer, e.imported) for e in edges})
    assert not mended, f"NOT_YET lists edges the code no longer has: {mended}"


def test_every_kernel_folder_has_a_layer() -> None:
    folders = {p.name for p in (ROOT / "kernel").iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in (ROOT / "kernel").glob("*.py") if p.stem != "__init__"}
    assert folders | modules <= set(LAYERS) | {"py"}, sorted((folders | modules) - set(LAYERS))


@pytest.mark.parametrize(
    ("file", "source", "expected"),
    [
        ("kernel/model/specs.py", "from ..sdk.entity import Entity\n",
         r"plait.model.specs \(layer 0: errors, model\) imports plait.sdk.entity \(layer 2: sdk, "
         r"task_types, artifacts\) in a module-level import; imports point downwards"),
        ("kernel/typesys/__init__.py", "def f():\n    from ..run.engine import execute\n",
         r"plait.typesys \(layer 1: typesys, config\) imports plait.run.engine \(layer 3: run\) in "
         r"an import inside a function"),
        ("backend/api/app.py", "from plait.notebook.magics import lookup\n",
         r"plait.backend.api.app imports plait.notebook.magics: the backend may import only"),
        ("backend/execution/executor.py", "from plait.run.engine import _call\n",
         r"plait.backend.execution.executor imports plait.run.engine: the backend may import only"),
        ("backend/api/launching.py", "from plait.model.literals import _short\n",
         r"imports the private name plait.model.literals._short"),
        ("kernel/run/engine.py", "import plait.backend.storage\n",
         r"plait.run.engine imports plait.backend.storage: the kernel \(import plait\) never imports the backend"),
    ],
)
def test_an_import_against_the_rules_is_named_with_both_modules_and_the_rule(
    tmp_path: Path, file: str, source: str, expected: str
) -> None:
    path = ROOT / file
    package = next(p for p, f in sorted(FOLDERS.items(), key=lambda kv: -len(str(kv[1])))
                   if path.is_relative_to(f))
    scratch = tmp_path / path.name
    scratch.write_text(source)
    edges = [Edge(e.importer, e.imported, e.name, e.line, e.lazy, path)
             for e in edges_of(scratch, module_name(path, package, FOLDERS[package]))]
    found = violations(edges)
    assert len(found) == 1
    assert re.search(expected, found[0]), found[0]

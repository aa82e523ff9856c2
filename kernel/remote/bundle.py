"""Code bundles: what a registration ships along with its specs.

`collect(["./workflows"])` imports every module of the folder under the name
it has from the registration root (`workflows.my_example`, so the task
`task_1` in `workflows/my_example.py` is `workflows.my_example.task_1`),
gathers each task, workflow and launch plan with everything they use, and
packs the module sources into a deterministic tar.gz whose sha256 is its
digest. Entities without a module file to import on a worker (defined in a
notebook, in `__main__`, or inside a function) are shipped by value:
cloudpickled, stored as `functions/<digest>.pkl`.

Every spec's `code` section says where the worker finds the entity object:
`{"bundle": digest, "module": "workflows.my_example", "qualname": "task_1"}`,
or `{"pickle": digest, "module": None, ...}` for one shipped by value.
`qualname` is the attribute path of the entity object in its module.

Modules already imported are used as they are (what runs locally is what is
registered); the bundle holds the files on disk.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib
import io
import json
import os
import sys
import sysconfig
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import PlaitError, UserError
from ..model.vocab import stored_kind

# Kinds whose code runs on a worker: they need a module to import or a pickle.
RUNNABLE_KINDS = ("task", "dynamic")
# Fixed metadata for every archive member, so equal sources give equal bytes.
_MTIME = 315532800  # 1980-01-01, the zip epoch
_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "dist-packages"}


@dataclass(frozen=True)
class Registration:
    """Specs, code bundle and by-value functions of one registration."""

    specs: tuple[dict[str, Any], ...]
    entities: dict[tuple[str, str], Any]  # (kind, name) -> the local entity object
    bundle: bytes | None  # tar.gz of module sources (None when no module is shipped)
    digest: str | None  # sha256 of `bundle`
    functions: dict[str, bytes] = field(default_factory=dict)  # sha256 -> cloudpickle bytes
    files: tuple[str, ...] = ()  # archive paths inside the bundle, sorted
    modules: tuple[str, ...] = ()  # the modules imported from the given paths, in order
    python_version: str = ""
    version: str = ""  # content hash of specs and code: the default registration version

    def payload(self, project: str, domain: str, version: str | None = None) -> dict[str, Any]:
        """The body of `POST /api/v1/register`; every spec gets the registration's version.

        Reference entities keep the version they point at.
        """
        version = version or self.version
        specs = [s if "reference" in s else {**s, "version": version} for s in self.specs]
        return {
            "project": project,
            "domain": domain,
            "version": version,
            "bundle_digest": self.digest,
            "python_version": self.python_version,
            "specs": specs,
        }


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def collect(items: Iterable[Any]) -> Registration:
    """Import `items` (.py files, folders, or entity objects) and build their registration."""
    from ..sdk.entity import Entity

    items = list(items)
    if not items:
        raise UserError("nothing to register: give .py files, folders, or tasks/workflows/launch plans")
    roots: list[Path] = []
    sources: dict[str, Path] = {}  # archive path -> file
    modules: list[ModuleType] = []
    explicit: list[Any] = []
    for item in items:
        if isinstance(item, Entity):
            explicit.append(item)
        elif isinstance(item, (str, os.PathLike)):
            root, names = _modules_of_path(Path(item))
            _add_root(roots, root)
            for name, file in names:
                modules.append(import_file(root, name, file))
                sources[_archive_path(name, file)] = file
            for name, file in _package_inits(root, names):
                sources[_archive_path(name, file)] = file
        else:
            raise UserError(
                f"cannot register {item!r} ({type(item).__name__}): give a .py file, a folder, "
                "or a task, workflow or launch plan"
            )

    # Entities: module-level ones of the imported modules, plus the explicit ones.
    where: dict[int, tuple[str, str]] = {}  # id(entity) -> (module, attribute) where found
    top: list[Any] = []
    for mod in modules:
        for name, value in vars(mod).items():
            if isinstance(value, Entity):
                if id(value) not in where or _home_module(value) == mod.__name__:
                    where[id(value)] = (mod.__name__, name)
                top.append(value)
    top.extend(explicit)
    entities = _closure(top)

    # Modules of the entities' own files travel too, with the helpers imported
    # from beside them; so do modules from the current folder when entities go
    # by value, since their pickles may import those by name.
    homes = {id(e): _home_module(e) for e in entities}
    for e in entities:
        found = _module_file(where.get(id(e), (homes[id(e)], ""))[0])
        if found is not None:
            _add_root(roots, found[0])
    if any(_defined_without_module(e, homes[id(e)], where) for e in entities):
        cwd = Path.cwd().resolve()
        if not _is_library_dir(cwd):
            _add_root(roots, cwd)
    for name, file in _loaded_under(roots):
        sources.setdefault(_archive_path(name, file), file)
    in_bundle = {a.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for a in sources}
    with_files = _image_files(entities, sources)

    bundle, digest = (build_bundle(sources) if sources else (None, None))
    functions: dict[str, bytes] = {}
    specs: dict[tuple[str, str], dict[str, Any]] = {}  # keyed by (kind, name), as the server is
    named: dict[tuple[str, str], Any] = {}
    for e in entities:
        if e.kind in ("branch", "gate"):
            continue  # described in full by its workflow node
        spec = e.to_spec()
        home, attr = where[id(e)] if id(e) in where else (homes[id(e)], "")
        qualname = attr or _qualname(e)
        module = home if home in in_bundle and not _defined_without_module(e, homes[id(e)], where) else None
        code: dict[str, Any] = {"bundle": digest, "module": module, "qualname": qualname}
        if id(e) in with_files:
            code["image_files"] = IMAGE_FILES
        if module is None and e.kind in RUNNABLE_KINDS and "reference" not in spec:
            blob = _pickle(e)
            fn_digest = hashlib.sha256(blob).hexdigest()
            functions[fn_digest] = blob
            code["pickle"] = fn_digest
        spec["code"] = {**(spec.get("code") or {}), **code}
        key = (stored_kind(e.kind), e.name)
        if key in specs:
            if _without_code(specs[key]) != _without_code(spec):
                raise UserError(
                    f"two different {key[0].replace('_', ' ')}s are named `{e.name}` "
                    f"({named[key]!r} and {e!r}); rename one of them"
                )
            continue
        specs[key] = spec
        named[key] = e
    ordered = tuple(specs[k] for k in sorted(specs, key=lambda k: (_KIND_ORDER.get(specs[k]["kind"], 9), k[1])))
    version = hashlib.sha256(
        json.dumps({"bundle": digest, "specs": ordered}, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return Registration(
        specs=ordered,
        entities=named,
        bundle=bundle,
        digest=digest,
        functions=functions,
        files=tuple(sorted(sources)),
        modules=tuple(dict.fromkeys(m.__name__ for m in modules)),
        python_version=python_version(),
        version=version,
    )


_KIND_ORDER = {"task": 0, "dynamic": 0, "map": 1, "workflow": 2, "launch_plan": 3}

# Where the files an ImageSpec pulls in (requirements, source_root, copy) travel in the bundle:
# `_plait_image/<the path as the spec writes it>`; the server builds the environment from there.
IMAGE_FILES = "_plait_image"
_SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".ipynb_checkpoints", ".venv", "node_modules"})


def _image_files(entities: list[Any], sources: dict[str, Path]) -> set[int]:
    """Add to `sources` the files that the entities' ImageSpecs pull in, read from the current
    folder as a local build reads them; the ids of the entities whose image has such files.
    A path outside the current folder cannot travel: UserError naming the entity and field."""
    from ..config.image_spec import ImageSpec

    found: set[int] = set()
    for e in entities:
        image = getattr(getattr(e, "settings", None), "container_image", None)
        if not isinstance(image, ImageSpec):
            continue
        pulled = image.pulled_files()
        for f in pulled:
            name = Path(f.name)
            if name.is_absolute() or ".." in name.parts:
                raise UserError(
                    f"{e!r}: ImageSpec(name={image.name!r}) pulls in {f.name!r}, outside the folder you "
                    f"register from ({Path.cwd()}); the backend builds the environment from files "
                    "shipped with the code: give a path inside this folder, or register from a folder "
                    "that holds it")
            if f.path.is_dir():
                for file in sorted(f.path.rglob("*")):
                    if file.is_file() and not _SKIPPED_DIRS.intersection(file.relative_to(f.path).parts):
                        rel = (name / file.relative_to(f.path)).as_posix()
                        sources[f"{IMAGE_FILES}/{rel}"] = file
            elif f.path.is_file():
                sources[f"{IMAGE_FILES}/{name.as_posix()}"] = f.path
        if pulled:
            found.add(id(e))
    return found


def _without_code(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k != "code"}


# ------------------------------------------------------------------ paths and modules


def _is_package(folder: Path) -> bool:
    return (folder / "__init__.py").is_file()


def _package_root(folder: Path) -> Path:
    """The folder above the outermost package that contains `folder`."""
    while _is_package(folder) and folder.parent != folder:
        folder = folder.parent
    return folder


def _module_name(root: Path, file: Path) -> str:
    rel = file.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_module(file: Path) -> tuple[Path, str] | None:
    """(root, dotted name) of a .py file whose folder is a package: `basics/subworkflow.py` is
    `basics.subworkflow` when `basics/` has an `__init__.py`, as Flyte names its tasks; None for
    a file of a plain folder, which is named by its stem."""
    file = file.resolve()
    if not _is_package(file.parent):
        return None
    root = _package_root(file.parent)
    return root, _module_name(root, file)


def _modules_of_path(path: Path) -> tuple[Path, list[tuple[str, Path]]]:
    """The registration root of `path` and the (module name, file) pairs it holds.

    A folder is named from its parent (`./workflows` -> `workflows.*`), or from
    above its outermost package; a file from above its outermost package, or
    by its stem when its folder is not a package (as `plait run` names it).
    """
    if not path.exists():
        raise UserError(f"cannot register {path}: no such file or folder")
    path = path.resolve()
    if path.is_dir():
        root = _package_root(path) if _is_package(path) else path.parent
        files = sorted(_walk(path))
        if not files:
            raise UserError(f"cannot register {path}: it holds no .py files")
    else:
        if path.suffix != ".py":
            hint = (f"; export it first with `plait export {path} -o module.py`"
                    if path.suffix == ".ipynb" else "")
            raise UserError(f"cannot register {path}: expected a .py file or a folder{hint}")
        root = _package_root(path.parent)
        files = [path]
    return root, [(_module_name(root, f), f) for f in files]


def _walk(folder: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in _SKIP_DIRS and not d.startswith(".") and not (here / d / "pyvenv.cfg").exists()
        )
        for f in sorted(filenames):
            if f.endswith(".py"):
                yield here / f


def _package_inits(root: Path, names: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """`__init__.py` files of the packages above each module, which imports need."""
    out = []
    for _name, file in names:
        folder = file.parent
        while folder != root and folder.is_relative_to(root):
            init = folder / "__init__.py"
            if init.is_file():
                out.append((_module_name(root, init), init))
            folder = folder.parent
    return out


def _archive_path(name: str, file: Path) -> str:
    base = name.replace(".", "/")
    return f"{base}/__init__.py" if file.name == "__init__.py" else f"{base}.py"


def _add_root(roots: list[Path], root: Path) -> None:
    if root not in roots:
        roots.append(root)


def import_file(root: Path, name: str, file: Path) -> ModuleType:
    """Import `file` as module `name`, with `root` on sys.path."""
    entry = str(root)
    if entry not in sys.path:
        sys.path.insert(0, entry)
    loaded = sys.modules.get(name)
    if loaded is not None and not _same_file(loaded, file):
        raise UserError(
            f"cannot import {file} as `{name}`: a module of that name is already imported from "
            f"{getattr(loaded, '__file__', None) or 'elsewhere'}; rename the folder or register "
            "from a fresh process"
        )
    importlib.invalidate_caches()
    try:
        module = importlib.import_module(name)
    except PlaitError:
        raise
    except Exception as exc:
        raise UserError(f"cannot import {file} as `{name}`: {type(exc).__name__}: {exc}") from exc
    if not _same_file(module, file):
        raise UserError(
            f"cannot import {file} as `{name}`: that name resolves to "
            f"{getattr(module, '__file__', None) or 'a namespace package'} instead; rename the "
            "folder so it does not clash with an installed or already imported package"
        )
    return module


def _same_file(module: ModuleType, file: Path) -> bool:
    found = getattr(module, "__file__", None)
    return found is not None and Path(found).resolve() == file


def _module_file(name: str | None) -> tuple[Path, Path] | None:
    """(root, file) of an imported module whose file lies where its name says."""
    module = sys.modules.get(name or "")
    found = getattr(module, "__file__", None)
    if not name or name == "__main__" or not found or not found.endswith(".py"):
        return None
    file = Path(found).resolve()
    parts = name.split(".")
    tail = [*parts, "__init__.py"] if file.name == "__init__.py" else [*parts[:-1], parts[-1] + ".py"]
    if tuple(file.parts[-len(tail):]) != tuple(tail):
        return None
    root = Path(*file.parts[: -len(tail)])
    if _is_library_dir(root):
        return None
    return root, file


@functools.lru_cache(maxsize=1)
def _library_dirs() -> frozenset[Path]:
    paths = sysconfig.get_paths()
    found = {Path(paths[k]).resolve() for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    found.add(Path(__file__).resolve().parent)  # plait itself
    return frozenset(found)


def _is_library_dir(folder: Path) -> bool:
    libs = _library_dirs()
    return any(folder == lib or folder.is_relative_to(lib) for lib in libs) or folder == Path(folder.anchor)


def _loaded_under(roots: list[Path]) -> list[tuple[str, Path]]:
    """Imported modules that live under one of `roots` (helpers the entities use)."""
    if not roots:
        return []
    out = []
    for name in sorted(sys.modules):
        found = _module_file(name)
        if found is not None and found[0] in roots:
            out.append((name, found[1]))
    return out


# ------------------------------------------------------------------ entities


def _closure(top: list[Any]) -> list[Any]:
    """`top` and every entity they use, each once, in a stable order."""
    from ..sdk.entity import Entity

    seen: dict[int, Any] = {}

    def visit(e: Any) -> None:
        if not isinstance(e, Entity) or id(e) in seen:
            return
        seen[id(e)] = e
        for sub in getattr(e, "entities", lambda: [])():
            visit(sub)
        for sub in getattr(e, "sub_entities", lambda: [])():
            visit(sub)
        visit(getattr(e, "on_failure", None))

    for e in top:
        visit(e)
    # Map, branch and gate nodes live inside their workflow's spec; their targets are registered.
    return [e for e in seen.values() if e.kind not in ("map", "branch", "gate")]


def _home_module(entity: Any) -> str | None:
    """The module that defines a task's or workflow's function (None for launch plans)."""
    module = getattr(getattr(entity, "function", None), "__module__", None)
    return module if isinstance(module, str) else None


def _qualname(entity: Any) -> str:
    fn = getattr(entity, "function", None)
    qualname = getattr(fn, "__qualname__", None)
    return str(qualname or entity.name.rsplit(".", 1)[-1])


def _defined_without_module(entity: Any, home: str | None, where: dict[int, tuple[str, str]]) -> bool:
    """Defined in a notebook or `__main__`, or out of reach of an import and an attribute."""
    if id(entity) in where:
        return where[id(entity)][0] == "__main__"
    if entity.kind not in RUNNABLE_KINDS:
        return False
    if home is None or home == "__main__" or "<locals>" in _qualname(entity):
        return True
    obj: Any = sys.modules.get(home)
    for part in _qualname(entity).split("."):
        obj = getattr(obj, part, None)
    return obj is not entity


def _pickle(entity: Any) -> bytes:
    import cloudpickle

    try:
        return bytes(cloudpickle.dumps(entity))
    except Exception as exc:
        raise UserError(
            f"{entity.kind} `{entity.name}` has no module file to import on a worker, so it is "
            f"shipped by value, but it cannot be pickled: {type(exc).__name__}: {exc}. Move it "
            "into a .py file and register that file"
        ) from exc


# ------------------------------------------------------------------ the archive


def build_bundle(sources: dict[str, Path]) -> tuple[bytes, str]:
    """A tar.gz of `sources` (archive path -> file) and its sha256; equal input, equal bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for arcname in sorted(sources):
            data = sources[arcname].read_bytes()
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            info.mtime = _MTIME
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    blob = packed.getvalue()
    return blob, hashlib.sha256(blob).hexdigest()

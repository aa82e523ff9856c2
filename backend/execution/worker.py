"""What runs on a Dask worker: one attempt of one task node (or a batch of map items).

The executor sends a plain-JSON payload; the worker loads the task's code (a
registered bundle, or a by-value pickle), turns value refs into Python values,
runs the attempt with the local engine's semantics (type checks, timeout,
environment, working directory), streams stdout/stderr to the object store,
measures the attempt's CPU, memory and GPUs and holds it to its memory limit
(usage.py), and answers with value refs for the outputs. Only workers
unpickle; the control plane handles JSON.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import json
import os
import pickle
import queue
import re
import shutil
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin
from plait.errors import FlyteRecoverableException, TaskTimeoutError
from plait.run.attempt import ENV_LOCK, UNWIND_S, Attempt, find_entity, interrupt
from plait.typesys import ValueTypeError, checker, from_literal, to_literal, value_hash

from . import tracebacks as _tracebacks
from . import usage as _usage
from .usage import LIMIT_INTERVAL_S, MemoryLimit, OutOfMemoryError, Usage

LITERAL_LIMIT = 64 * 1024  # bigger values go to the object store as pickles
_stores: dict[str, Any] = {}
_code_lock = threading.Lock()
_entities: dict[str, Any] = {}  # code key -> entity object
_bundle_modules: dict[str, str] = {}  # module name -> bundle digest whose copy is in sys.modules


def store_for(url: str) -> Any:
    store = _stores.get(url)
    if store is None:
        from plait.backend.storage import ObjectStore

        store = _stores.setdefault(url, ObjectStore(url))
    return store


# ------------------------------------------------------------------ code

_DIGEST = re.compile(r"[0-9a-f]{64}")
_bundles: dict[str, str] = {}  # bundle digest -> the folder this process extracted it into
_bundles_root: list[str] = []  # this process's private folder for bundles (made on first use)


class CodeMismatch(Exception):
    """The code in the object store is not what its digest names."""


def _check_digest(what: str, digest: str, data: bytes) -> None:
    found = hashlib.sha256(data).hexdigest()
    if found != digest:
        raise CodeMismatch(
            f"{what} {digest}: the stored bytes have sha256 {found}, so they are not the code "
            "that was registered; refusing to run them (register the code again)"
        )


def _private_root() -> str:
    """This process's own folder for extracted bundles: made by mkdtemp (0700, a name nobody
    can guess in advance), never a folder someone else may have made first."""
    if not _bundles_root or not os.path.isdir(_bundles_root[0]):
        root = tempfile.mkdtemp(prefix="plait-bundles-")
        atexit.register(shutil.rmtree, root, True)
        _bundles_root[:] = [root]
        _bundles.clear()
    return _bundles_root[0]


def _bundle_dir(store: Any, digest: str) -> str:
    """The folder of a bundle's sources, extracted by this process (under `_code_lock`)."""
    found = _bundles.get(digest)
    if found is not None and os.path.isdir(found):
        return found
    if not _DIGEST.fullmatch(digest):
        raise CodeMismatch(f"bundle digest {digest!r} is not a sha256 (64 lowercase hex digits)")
    root = _private_root()
    data = store.get_bytes(f"bundles/{digest}.tar.gz")
    _check_digest("bundle", digest, data)
    tmp = tempfile.mkdtemp(prefix=f".{digest[:16]}-", dir=root)
    target = os.path.join(root, digest)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(tmp, filter="data")
        if os.path.lexists(target):  # left by an extraction of this process that failed midway
            shutil.rmtree(target)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _bundles[digest] = target
    return target


def _import_from_bundle(store: Any, digest: str, module: str) -> Any:
    import importlib

    root = _bundle_dir(store, digest)
    top = module.split(".")[0]
    if top == "__main__":
        raise LookupError("code defined in __main__ must be shipped by value (a pickle), not by module")
    if _bundle_modules.get(top) != digest:
        # Another version of this code was imported here before: forget it.
        for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
            del sys.modules[name]
        sys.path[:] = [p for p in sys.path if not p.startswith(os.path.dirname(root) + os.sep)]
        sys.path.insert(0, root)
        _bundle_modules[top] = digest
        importlib.invalidate_caches()
    return importlib.import_module(module)


def load_entity(store: Any, code: dict[str, Any], name: str) -> Any:
    """The entity object for a spec's code reference (cached per process)."""
    key = json.dumps([code, name], sort_keys=True)
    found = _entities.get(key)
    if found is not None:
        return found
    with _code_lock:
        found = _entities.get(key)
        if found is not None:
            return found
        if code.get("bundle") and code.get("pickle") is None:
            module = _import_from_bundle(store, code["bundle"], code["module"])
            entity = find_entity(module, name, code.get("qualname"))
        elif code.get("pickle"):
            if code.get("bundle"):
                # The pickle may import modules shipped in the bundle by name.
                root = _bundle_dir(store, code["bundle"])
                if root not in sys.path:
                    sys.path.insert(0, root)
            import cloudpickle

            blob = store.get_bytes(f"functions/{code['pickle']}.pkl")
            _check_digest("function", code["pickle"], blob)
            entity = cloudpickle.loads(blob)
        else:
            raise LookupError(f"`{name}` has no code reference (bundle or pickle) in its spec")
        _entities[key] = entity
        return entity


# ------------------------------------------------------------------ the environment

# What a task sees of its worker process's environment: what a Python process and the
# programs it starts need to run, nothing that could be a secret (docs/backend.md, "What
# a task sees"). The rest comes from the task's `environment`, the launch's `envs` and
# the secrets it requests.
ENV_KEPT = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM",
    "TMPDIR", "TEMP", "TMP", "PYTHONPATH", "VIRTUAL_ENV", "LD_LIBRARY_PATH",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES",
    # set by Dask's nanny for its workers
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_",
    # the worker's pool and the image of its environment (`ImageSpec.is_container()` reads it)
    "PLAIT_POOL", "PLAIT_IMAGE_NAME", "FLYTE_INTERNAL_IMAGE",
})
ENV_KEPT_PREFIXES = ("LC_",)
KEEP_ENV = "PLAIT_KEEP_ENV"  # names of the pool environment's own variables (compute/pools.py)


def clean_environment() -> None:
    """Leave in `os.environ` (and so in what its tasks start) only ENV_KEPT, and the variables
    of the worker's environment (an ImageSpec's `env`) that its pool names in PLAIT_KEEP_ENV.
    Secrets come from the secret store, to the attempts that request them (`AttemptSecrets`)."""
    own = {n for n in os.environ.get(KEEP_ENV, "").split(",") if n}
    for name in list(os.environ):
        if name not in ENV_KEPT and name not in own and not name.startswith(ENV_KEPT_PREFIXES):
            del os.environ[name]


# ------------------------------------------------------------------ secrets


MASK = "****"
MIN_DERIVED = 6  # characters of an encoding or a line of a value that are masked on their own


def _forms(value: str) -> set[str]:
    """The ways a value commonly appears in printed text: as is, its lines, escaped in JSON or
    a repr, percent-encoded, in base64 (standard and url-safe, with and without padding), hex."""
    import base64
    from urllib.parse import quote, quote_plus

    raw = value.encode("utf-8")
    derived = {value.strip(), json.dumps(value)[1:-1], repr(value)[1:-1], quote(value, safe=""),
               quote_plus(value), raw.hex()}
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        derived |= {encoded, encoded.rstrip("=")}
    lines = [line.strip() for line in value.splitlines()]
    if len(lines) > 1:
        derived |= set(lines)
    # A short derived form (the hex of a 2-letter value, say) would mask ordinary text.
    return {value} | {f for f in derived if len(f) >= MIN_DERIVED}


class Masker:
    """Replaces the values of an attempt's secrets (in each of their `_forms`) with `****`.

    `mask` does a whole text; `split` a stream's next piece: it masks what is known to be
    final and keeps back the end that could still grow into a value, for the next piece.
    """

    def __init__(self, values: Any = ()) -> None:
        self.values: frozenset[str] = frozenset(v for v in values if v)
        forms = sorted({f for v in self.values for f in _forms(v)}, key=len, reverse=True)
        self.forms = forms
        self.pattern = re.compile("|".join(map(re.escape, forms))) if forms else None

    def __bool__(self) -> bool:
        return self.pattern is not None

    def with_values(self, values: Any) -> Masker:
        added = frozenset(v for v in values if v)
        return self if added <= self.values else Masker(self.values | added)

    def mask(self, text: str) -> str:
        return self.pattern.sub(MASK, text) if self.pattern is not None else text

    def _partial(self, text: str) -> int:
        """Length of the longest end of `text` that begins one of the forms without being it."""
        longest = 0
        for form in self.forms:
            first = form[0]
            i = text.find(first, max(0, len(text) - len(form) + 1))
            while i != -1 and len(text) - i > longest:
                if form.startswith(text[i:]):
                    longest = len(text) - i
                    break
                i = text.find(first, i + 1)
        return longest

    def split(self, text: str) -> tuple[str, str]:
        """(what of `text` can be written now, masked; what to keep for the next piece, as is)."""
        if self.pattern is None:
            return text, ""
        cut = len(text) - self._partial(text)
        out, pos = [], 0
        for match in self.pattern.finditer(text):
            if match.start() >= cut:
                break
            out += [text[pos:match.start()], MASK]
            pos = match.end()
            cut = max(cut, pos)
        out.append(text[pos:cut])
        return "".join(out), text[cut:]


NO_MASK = Masker()  # what an attempt without secrets masks: nothing
_maskers: dict[int, Masker] = {}  # id -> masker of each attempt of this process that has secrets


def mask_running(text: str) -> str:
    """`text` with the secrets of every attempt running in this process masked."""
    for masker in list(_maskers.values()):
        text = masker.mask(text)
    return text


class AttemptSecrets:
    """The secrets one attempt requested, as its task receives them (Flyte's conventions):

    - mount ENV_VAR or ANY: the variable `_FSEC_<GROUP>_<KEY>`, and the request's `env_var`;
    - mount FILE or ANY: the file `<folder>/<group>/<key>` (lower case), in a folder of this
      attempt (0700, removed when it ends) that `FLYTE_SECRETS_DEFAULT_DIR` names;
    - `current_context().secrets.get(group, key)`, for every request, and nothing else.

    The values are masked in the attempt's log and in the errors it answers with.
    """

    def __init__(self, sealed: Any) -> None:
        from plait.backend.secrets import env_name, flyte_env_name

        self.grants = tuple(getattr(sealed, "grants", ()))
        self.masker = Masker(g.value for g in self.grants)
        self.env: dict[str, str] = {}
        self.given: dict[str, str] = {}
        self.folder: str | None = None
        _maskers[id(self)] = self.masker
        try:
            for g in self.grants:
                variable = env_name(g.group, g.key)
                self.given[variable[len("_FSEC_"):]] = g.value
                if g.mount in ("ENV_VAR", "ANY"):
                    self.env[variable] = g.value
                    # Flyte's own spelling too, which keeps `-` and `.` (`_FSEC_USER-INFO_TOKEN`)
                    self.env[flyte_env_name(g.group, g.key)] = g.value
                if g.env_var:
                    self.env[g.env_var] = g.value
                if g.mount in ("FILE", "ANY"):
                    self._write(g)
        except BaseException:
            self.close()  # no file of a half-made folder stays
            raise
        if self.folder is not None:
            self.env["FLYTE_SECRETS_DEFAULT_DIR"] = self.folder

    def _write(self, grant: Any) -> None:
        from plait.model.home import open_file_private

        if self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="plait-secrets-")
        parts = [p.lower() for p in (grant.group, grant.key) if p]
        path = os.path.join(self.folder, *parts)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with os.fdopen(open_file_private(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "w") as handle:
            handle.write(grant.value)

    def give(self, attempt: Attempt) -> None:
        """Have the attempt's `current_context().secrets` answer with these secrets only."""
        attempt.context.provide_secrets(self.given, self.folder)

    def close(self) -> None:
        _maskers.pop(id(self), None)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


class WorkerSetup(WorkerPlugin):
    """What every worker process does before its first task (the executor registers it, and
    Dask runs it on each worker that joins later): open the object store (which may read its
    credentials from the environment) and clean the environment. On the embedded cluster's
    workers (`own_cluster`) their HTTP server also asks its clients for a certificate."""

    def __init__(self, storage_url: str, *, own_cluster: bool = False) -> None:
        self.storage_url = storage_url
        self.own_cluster = own_cluster

    def setup(self, worker: Any) -> None:
        try:
            store_for(self.storage_url).exists("bundles")
        except Exception:  # noqa: BLE001 - the first attempt reports a store that cannot be read
            pass
        clean_environment()
        if self.own_cluster:
            import ssl

            context = getattr(getattr(worker, "http_server", None), "ssl_options", None)
            if isinstance(context, ssl.SSLContext):
                context.verify_mode = ssl.CERT_REQUIRED


# ------------------------------------------------------------------ values


class UpstreamFailed(Exception):
    """A node queued behind an upstream attempt that did not succeed: nothing to run."""


def _upstream(result: Any) -> dict[str, Any]:
    if not isinstance(result, dict) or result.get("status") != "SUCCEEDED":
        raise UpstreamFailed()
    return result


def materialize(store: Any, ref: dict[str, Any], tp: Any, upstream: tuple[Any, ...] = ()) -> Any:
    """A value ref as a Python value of annotation `tp`; `upstream` are the answers of the
    attempts this one was queued behind (a ref {"upstream": i, "output": name} names one)."""
    if "upstream" in ref:
        inner = dict(_upstream(upstream[ref["upstream"]])["outputs"][ref["output"]])
        if ref.get("path"):
            inner["path"] = [*inner.get("path", []), *ref["path"]]
        return materialize(store, inner, tp)
    if "literal" in ref:
        value = from_literal(tp, ref["literal"])
    elif "uri" in ref and ref.get("structured_dataset"):
        value = structured_value(store, ref)
    elif "uri" in ref:
        value = pickle.loads(store.get_bytes(ref["uri"]))
    elif "collection" in ref:
        import typing  # noqa: F811

        args = typing.get_args(tp)
        item = args[0] if args else Any
        value = [materialize(store, r, item, upstream) for r in ref["collection"]]
    elif "mapping" in ref:
        import typing

        args = typing.get_args(tp)
        val_tp = args[1] if len(args) == 2 else Any
        value = {k: materialize(store, r, val_tp, upstream) for k, r in ref["mapping"].items()}
    else:
        raise ValueError(f"unknown value ref {sorted(ref)}")
    for step in ref.get("path", ()):
        value = value[step] if isinstance(step, int) or isinstance(value, dict) else getattr(value, step)
    return checker(tp)(value)


def to_ref(store: Any, prefix: str, name: str, tp: Any, value: Any) -> dict[str, Any]:
    """A Python output as a value ref: a literal when small and representable, else a pickle."""
    if hasattr(value, "__plait_stored_bytes__"):
        return structured_ref(store, prefix, name, value)
    digest = value_hash(tp, value)
    try:
        lit = to_literal(tp, value)
        text = json.dumps(lit)
        if len(text) <= LITERAL_LIMIT:
            return {"literal": lit, "hash": digest}
    except (ValueTypeError, TypeError, ValueError):
        pass
    import cloudpickle
    from plait.run.attempt import batch_size_of

    size = batch_size_of(tp)
    if size is not None and isinstance(value, list):
        return batched_ref(store, prefix, name, tp, value, size, digest)
    uri = f"{prefix}/outputs/{name}.pkl"
    store.put_bytes(uri, cloudpickle.dumps(value))
    preview = repr(value)
    return {"uri": uri, "format": "pickle", "hash": digest, "preview": preview[:200]}


def batched_ref(store: Any, prefix: str, name: str, tp: Any, value: list[Any], size: int,
                digest: str) -> dict[str, Any]:
    """`Annotated[list[T], BatchSize(n)]` of pickled items: one pickle per `n` items, and the
    list as a collection of per-item refs into them (so a map task can fan out over it)."""
    import typing

    import cloudpickle
    from plait.typesys import strip_annotated

    item_tp = (typing.get_args(strip_annotated(tp)[0]) or (Any,))[0]
    refs: list[dict[str, Any]] = []
    for start in range(0, len(value), size):
        uri = f"{prefix}/outputs/{name}/batch-{start // size}.pkl"
        chunk = value[start:start + size]
        store.put_bytes(uri, cloudpickle.dumps(chunk))
        refs += [{"uri": uri, "format": "pickle", "path": [i], "hash": value_hash(item_tp, item),
                  "preview": repr(item)[:200]} for i, item in enumerate(chunk)]
    return {"collection": refs, "hash": digest}


def structured_ref(store: Any, prefix: str, name: str, value: Any) -> dict[str, Any]:
    """A StructuredDataset output as one file in the object store (Parquet unless it declares
    another format), hashed by its bytes.

    The hash is the one the local engine gives the same data (`sd:` and the
    file's sha256), so a task taking it is a cache hit when the data is the same.
    """
    data, fmt = value.__plait_stored_bytes__()
    uri = f"{prefix}/outputs/{name}.{fmt}"
    store.put_bytes(uri, data)
    ref: dict[str, Any] = {"uri": uri, "format": fmt, "structured_dataset": True,
                           "hash": "sd:" + hashlib.sha256(data).hexdigest(), "preview": repr(value)[:200]}
    sd_type = value.metadata.structured_dataset_type
    columns = [c.name for c in (sd_type.columns or [])] if sd_type is not None else []
    if columns:
        ref["columns"] = columns  # declared by the producing task: read only these downstream
    return ref


def structured_value(store: Any, ref: dict[str, Any]) -> Any:
    """The StructuredDataset a `structured_ref` names, in a local folder of this worker."""
    from plait.typesys.structured import StructuredDataset

    return StructuredDataset.__plait_from_stored_bytes__(store.get_bytes(ref["uri"]), ref["format"],
                                                         ref.get("columns"))


# ------------------------------------------------------------------ logs and usage


class _Router(io.TextIOBase):
    """sys.stdout/sys.stderr: writes from a thread running an attempt go to its log."""

    def __init__(self, original: Any) -> None:
        self.original = original
        self.sinks: dict[int, Any] = {}

    def write(self, text: str) -> int:
        sink = self.sinks.get(threading.get_ident())
        if sink is None and self.sinks:
            # A thread the attempt started (a shell task's output pump, say) while it
            # is the only attempt running in this worker: the output is its.
            active = {id(v): v for v in list(self.sinks.values())}
            if len(active) == 1:
                sink = next(iter(active.values()))
        if sink is not None:
            sink.write(text)
            return len(text)
        if _maskers:  # a thread of no attempt, while attempts with secrets run: mask them all
            text = mask_running(text)
        return self.original.write(text)  # type: ignore[no-any-return]

    def flush(self) -> None:
        self.original.flush()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.original, "encoding", "utf-8")

    def fileno(self) -> int:
        return self.original.fileno()  # type: ignore[no-any-return]


_routers: tuple[_Router, _Router] | None = None
_router_lock = threading.Lock()


def _install_routers() -> tuple[_Router, _Router]:
    global _routers
    with _router_lock:
        if _routers is None:
            out, err = _Router(sys.stdout), _Router(sys.stderr)
            sys.stdout, sys.stderr = out, err
            _routers = (out, err)
        return _routers


class _Ticker:
    """One background thread per worker process: flushes logs and samples usage of the
    attempts running now, so an attempt costs no thread of its own (one with a memory
    limit is sampled more often by the thread waiting for it, see `_call_watched`)."""

    INTERVAL_S = 0.25

    def __init__(self) -> None:
        self.sinks: set[LogSink] = set()
        self.usages: set[Usage] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._loop, daemon=True, name="plait-ticker").start()

    def _loop(self) -> None:
        while True:
            time.sleep(self.INTERVAL_S)
            with self.lock:
                sinks, usages = list(self.sinks), list(self.usages)
            for sink in sinks:
                try:
                    sink.flush()
                except Exception:  # noqa: BLE001 - a log write failing must not stop the others
                    pass
            for usage in usages:
                usage.sample()


_ticker: _Ticker | None = None


def ticker() -> _Ticker:
    global _ticker
    with _router_lock:
        if _ticker is None:
            _ticker = _Ticker()
        return _ticker


class LogSink:
    """Buffers an attempt's output; the ticker appends it to the object store.

    Nothing is written until the attempt prints: a silent attempt costs no file (its log
    reads as empty, see ObjectStore.read_text). On a store without append (S3) each append
    is an object of its own: the sink appends at most every `append_interval_s` and, when
    the attempt ends, has the store join the parts into one object. The values of the
    secrets the attempt was given (`mask`) are masked as `****`, also when a print cuts one
    in two: the end of what was printed that could be the start of a value waits for the
    next flush.
    """

    def __init__(self, store: Any, path: str) -> None:
        self.store = store
        self.path = path
        self._buffer: list[str] = []
        self._held = ""  # the end of the last flush that may begin a secret's value
        self._appended = 0.0  # time.monotonic() of the last append
        self.masker = NO_MASK
        self._lock = threading.Lock()
        with ticker().lock:
            ticker().sinks.add(self)

    def mask(self, masker: Masker) -> None:
        """Mask these values too, from now on."""
        with self._lock:
            self.masker = self.masker.with_values(masker.values)

    def write(self, text: str) -> None:
        with self._lock:
            self._buffer.append(text)

    def flush(self, final: bool = False) -> None:
        with self._lock:
            if not final and time.monotonic() - self._appended < self.store.append_interval_s(self.path):
                return
            text, self._buffer = self._held + "".join(self._buffer), []
            if self.masker:
                if final:
                    text, self._held = self.masker.mask(text), ""
                else:
                    text, self._held = self.masker.split(text)
            if text:
                self.store.append_text(self.path, text)
                self._appended = time.monotonic()

    def close(self) -> None:
        with ticker().lock:
            ticker().sinks.discard(self)
        self.flush(final=True)
        try:
            self.store.close_text(self.path)
        except Exception:  # noqa: BLE001 - the parts of the log stay readable as they are
            pass


# ------------------------------------------------------------------ attempts


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except Exception:  # noqa: BLE001 - not inside a Dask worker (tests)
        return f"pid:{os.getpid()}"


def _worker_pool() -> str | None:
    """The pool of this worker: its `pool-<name>` Dask resource (None outside pools)."""
    try:
        from distributed import get_worker

        resources = get_worker().state.total_resources
    except Exception:  # noqa: BLE001 - not inside a Dask worker (tests)
        return None
    return next((k[len("pool-"):] for k in resources if k.startswith("pool-")), None)


TRACEBACK_LIMIT = 8000  # characters of each traceback an error keeps (its head and its tail)


def _error(exc: BaseException, kind: str = "USER", masker: Masker | None = None, *,
           frames: bool = True) -> dict[str, Any]:
    """An attempt's error as the executor records it, the secrets it was given masked.

    `traceback` is the user's view: only the frames of their code, its files named as they
    were registered (`tracebacks.shape`); `full_traceback` keeps every frame when some were
    left out (`folded_frames` of them). Without `frames` (an error whose frames say nothing,
    like a memory limit the watcher enforced) both are empty.
    """
    mask = masker.mask if masker else str
    error: dict[str, Any] = {
        "kind": kind,
        "type": type(exc).__name__,
        "message": mask(str(exc)),
        "traceback": "",
        "recoverable": isinstance(exc, (FlyteRecoverableException, TaskTimeoutError)),
    }
    if frames:
        shaped = _tracebacks.shape(exc, bundles=list(_bundles.values()))
        error["traceback"] = _tracebacks.trim(mask(shaped.user), TRACEBACK_LIMIT)  # masked, then cut
        if shaped.folded:
            error["full_traceback"] = _tracebacks.trim(mask(shaped.full), TRACEBACK_LIMIT)
            error["folded_frames"] = shaped.folded
    return error


def run_attempt(payload: dict[str, Any], *upstream: Any) -> dict[str, Any]:
    """Run one attempt; never raises for the task's own errors (they are in the answer).

    `upstream`: the answers of the attempts it was queued behind (Dask passes them in); if
    one of them did not succeed, there is nothing to run (UPSTREAM_FAILED).
    """
    store = store_for(payload["storage_url"])
    with _Captured(store, f"{payload['output_prefix']}/logs.txt") as cap:
        try:
            cap.result.update(_run(store, payload, cap.sink, upstream))
        except Exception as exc:  # noqa: BLE001 - loading code or inputs failed: a USER error
            cap.result.update({"status": "FAILED", "error": _error(exc)})
            print(cap.result["error"]["traceback"], file=sys.stderr)
    return cap.result


class _Captured:
    """Route this thread's output to a log in the object store and measure the attempt's
    usage meanwhile (`usage.current()` is its Usage on this thread)."""

    def __init__(self, store: Any, logs_uri: str) -> None:
        self.store = store
        self.logs_uri = logs_uri
        self.result: dict[str, Any] = {}

    def __enter__(self) -> _Captured:
        self.out, self.err = _install_routers()
        self.sink = LogSink(self.store, self.logs_uri)
        self.ident = threading.get_ident()
        self.out.sinks[self.ident] = self.sink
        self.err.sinks[self.ident] = self.sink
        self.usage = Usage()
        with ticker().lock:
            ticker().usages.add(self.usage)
        self.result = {"worker": _worker_address(), "pool": _worker_pool(), "logs_uri": self.logs_uri,
                       "started": time.time()}
        return self

    def __exit__(self, *exc: Any) -> None:
        self.out.sinks.pop(self.ident, None)
        self.err.sinks.pop(self.ident, None)
        self.sink.close()
        with ticker().lock:
            ticker().usages.discard(self.usage)
        self.result["usage"] = self.usage.close()
        self.result["ended"] = time.time()


def _run(store: Any, payload: dict[str, Any], sink: LogSink, upstream: tuple[Any, ...] = ()) -> dict[str, Any]:
    usage = _usage.current()
    if usage is not None:
        usage.limit = MemoryLimit.of(payload.get("limits"))  # the task's `limits=Resources(mem=...)`
    try:
        for answer in upstream:
            _upstream(answer)
        entity = load_entity(store, payload["code"], payload["name"])
        types = entity.interface.input_types
        inputs = {n: materialize(store, ref, types.get(n, Any), upstream) for n, ref in payload["inputs"].items()}
    except UpstreamFailed:
        return {"status": "UPSTREAM_FAILED"}
    if payload.get("secret_error"):  # a requested secret the store lacks (or cannot decrypt)
        message = str(payload["secret_error"])
        print(f"plait: {message}", file=sys.stderr)
        return {"status": "FAILED", "error": {"kind": "USER", "type": "SecretError", "message": message,
                                              "traceback": "", "recoverable": False}}
    attempt = Attempt(entity, inputs, execution=payload["execution_id"], path=payload["node_path"],
                      number=payload.get("attempt", 1), project=payload.get("project", "default"),
                      domain=payload.get("domain", "development"),
                      files_dir=lambda path: _files_dir(store, payload["output_prefix"]), keep_artifacts=True)
    _give_context(store, payload, attempt)
    if not payload.get("secrets"):
        attempt.context.provide_secrets({})  # it requested none: it gets none, and is told so
        return _run_called(store, payload, sink, entity, attempt, None)
    granted = AttemptSecrets(payload["secrets"])
    try:
        sink.mask(granted.masker)
        granted.give(attempt)
        return _run_called(store, payload, sink, entity, attempt, granted)
    finally:
        granted.close()


def _give_context(store: Any, payload: dict[str, Any], attempt: Attempt) -> None:
    """Where the attempt's Flyte context keeps data: "remote" scratch paths
    (`file_access.get_random_remote_path`) in its folder of the object store, and its
    checkpoint in the object store, reading its predecessors' (a map item keeps a local
    one: its items have no attempts of their own to resume)."""
    attempt.context.raw_output_prefix = os.path.join(_files_dir(store, payload["output_prefix"]), "raw")
    where = payload.get("checkpoint")
    if not where or payload.get("batched"):
        return
    attempt.keep_checkpoints_in(store, where["prefix"], where.get("previous", ()))


def _run_called(store: Any, payload: dict[str, Any], sink: LogSink, entity: Any, attempt: Attempt,
                granted: AttemptSecrets | None) -> dict[str, Any]:
    """The attempt's call (or a dynamic task's expansion) and its outputs as value refs."""
    masker = granted.masker if granted is not None else None
    if entity.kind == "dynamic":
        return _expand_dynamic(store, attempt, payload, sink, granted)
    envs = {**(payload.get("envs") or {}), **(granted.env if granted is not None else {})}
    timeout = payload.get("timeout")
    usage = _usage.current()

    eager = getattr(entity, "task_type", "") == "eager"

    def call() -> Any:
        if eager:  # the entities its body awaits run as nodes of the execution (eager.py)
            from .eager import run_eager_body

            return run_eager_body(store, attempt, payload, envs, to_ref=to_ref, materialize=materialize)
        return attempt.call(None, envs)  # its timeout is watched here, on the attempt thread

    try:
        if payload.get("batched") and not timeout and (usage is None or usage.limit is None):
            raw = call()  # a map item: on this thread, with nothing to watch
        elif eager:
            from .eager import seceded

            with seceded():  # its slot on this worker may be needed by the nodes it awaits
                raw = _call_watched(store, payload, sink, call, timeout=timeout, task=entity.name)
        else:
            raw = _call_watched(store, payload, sink, call, timeout=timeout, task=entity.name)
        outputs = attempt.outputs(raw)
    except AttemptAborted:
        print("plait: the execution was aborted; this attempt was stopped", file=sys.stderr)
        return {"status": "ABORTED", "error": {"kind": "ABORTED", "type": "Aborted", "message": "aborted"}}
    except TaskTimeoutError as exc:
        print(f"plait: {exc}", file=sys.stderr)
        return {"status": "TIMED_OUT", "error": _error(exc, masker=masker)}
    except OutOfMemoryError as exc:
        print(f"plait: {exc}", file=sys.stderr)
        return {"status": "FAILED", "error": _error(exc, masker=masker, frames=False)}
    except Exception as exc:  # noqa: BLE001 - the task failed: reported, not raised
        error = _error(exc, masker=masker)
        sink.write(error["traceback"])
        return {"status": "FAILED", "error": error}
    finally:
        attempt.close()
    iface = entity.interface.outputs
    refs = {n: to_ref(store, payload["output_prefix"], n, iface[n], v) for n, v in outputs.items()}
    answer: dict[str, Any] = {"status": "SUCCEEDED", "outputs": refs}
    if attempt.artifacts:  # recorded by the executor with the node's success (catalog.py)
        answer["artifacts"] = attempt.artifacts
    return answer


class AttemptAborted(Exception):
    """The execution was aborted while this attempt ran."""


ABORT_POLL_S = 0.5


def abort_marker(execution_id: str) -> str:
    """The object the executor writes when an execution is aborted."""
    return f"executions/{execution_id}/ABORTED"


def _call_watched(store: Any, payload: dict[str, Any], sink: LogSink, call: Any, *,
                  timeout: float | None = None, task: str = "") -> Any:
    """Run `call` on an attempt thread and watch it from this one (Dask's) until it ends.

    The attempt is stopped when the execution is aborted (AttemptAborted), when it runs
    past `timeout` seconds (TaskTimeoutError), or when the memory it uses goes over its
    limit (OutOfMemoryError: the processes it started are killed, and what it held is
    given back); the worker then takes new work. A thread cannot be killed: a stopped
    attempt is interrupted at its next Python instruction (code blocked in one native
    call stops when that call returns) and its thread is not used again.
    """
    usage = _usage.current()
    limit = usage.limit if usage is not None else None
    runner = _Runner.take()
    job = _Job(call, sink, usage)
    runner.jobs.put(job)
    marker = abort_marker(payload["execution_id"])
    now = time.monotonic()
    deadline = now + float(timeout) if timeout else None
    next_abort = now + ABORT_POLL_S
    while True:
        wait = min(next_abort, deadline or next_abort) - now
        if limit is not None:
            wait = min(wait, LIMIT_INTERVAL_S)
        if job.finished.acquire(timeout=max(wait, 0.0)):
            break
        now = time.monotonic()
        if limit is not None and usage is not None:
            used = usage.sample()
            if used > limit.bytes:
                usage.kill_processes()  # a child hogging memory, and a body waiting for it
                _stop(runner, job, usage)
                raise limit.error(task or payload["name"], used) from None
        if deadline is not None and now >= deadline:
            _stop(runner, job, usage)
            raise TaskTimeoutError(
                f"task `{task or payload['name']}` ran past its timeout of {float(timeout or 0):g}s and was "
                "stopped; raise `timeout` or make the task faster"
            ) from None
        if now >= next_abort:
            next_abort = now + ABORT_POLL_S
            if store.exists(marker):
                runner.abort(job)
                raise AttemptAborted()
    if job.error is not None:
        raise job.error
    return job.value


def _stop(runner: _Runner, job: _Job, usage: Usage | None) -> None:
    """Interrupt a job, give it UNWIND_S to run its `finally` blocks, and drop what it held."""
    runner.abort(job)
    job.finished.acquire(timeout=UNWIND_S)
    if usage is not None:
        usage.leave(runner.tid)
    job.value = job.error = None  # the error's traceback holds the body's frames and locals
    _usage.release_memory()


class _Job:
    """One call handed to an attempt thread; `finished` is released when it ends."""

    __slots__ = ("call", "sink", "usage", "value", "error", "finished", "cancelled")

    def __init__(self, call: Any, sink: LogSink, usage: Usage | None = None) -> None:
        self.call, self.sink, self.usage = call, sink, usage
        self.value: Any = None
        self.error: BaseException | None = None
        self.cancelled = False
        self.finished = threading.Lock()  # a bare lock: the cheapest way to wait for a thread
        self.finished.acquire()

    def run(self) -> None:
        out, err = _install_routers()
        me = threading.get_ident()
        out.sinks[me] = err.sinks[me] = self.sink
        if self.usage is not None:
            self.usage.enter()  # this thread's CPU counts for the attempt while it runs the job
        try:
            self.value = self.call()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            self.error = exc
        finally:
            if self.usage is not None:
                self.usage.leave()
            out.sinks.pop(me, None)
            err.sinks.pop(me, None)
            self.finished.release()


class _Runner:
    """A thread that runs attempts one after another.

    Handing a call to a waiting thread costs a fraction of starting a thread per attempt.
    A runner whose attempt was interrupted (aborted) is never used again: the interruption
    may land after the attempt ends, and must not hit the next one.
    """

    _idle: list[_Runner] = []
    _idle_lock = threading.Lock()

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self.state = threading.Lock()  # guards current and retired
        self.current: _Job | None = None
        self.retired = False
        self.thread = threading.Thread(target=self._loop, daemon=True, name="plait-attempt")
        self.thread.start()
        self.tid = self.thread.native_id

    @classmethod
    def take(cls) -> _Runner:
        with cls._idle_lock:
            if cls._idle:
                return cls._idle.pop()
        return cls()

    def abort(self, job: _Job) -> None:
        """Interrupt `job` if it is running here; keep it from starting if it has not."""
        with self.state:
            if self.current is job:
                self.retired = True
                interrupt(self.thread)
            job.cancelled = True

    def _loop(self) -> None:
        try:
            while True:
                job = self.jobs.get()
                with self.state:
                    if not job.cancelled:
                        self.current = job
                if self.current is job:
                    job.run()
                with self.state:
                    self.current = None
                    if self.retired:
                        return
                with _Runner._idle_lock:
                    _Runner._idle.append(self)
        except BaseException:  # noqa: BLE001 - an interruption that landed as the attempt ended
            return


def _files_dir(store: Any, prefix: str) -> str:
    root = getattr(store, "local_root", None)
    base = os.path.join(root, prefix, "files") if root else tempfile.mkdtemp(prefix="plait-files-")
    os.makedirs(base, exist_ok=True)
    return base


def run_items(payload: dict[str, Any]) -> dict[str, Any]:
    """Several map items of one task in one Dask task: warm code, one round trip, one log."""
    store = store_for(payload["storage_url"])
    base = payload["output_prefix"]
    first, last = payload["items"][0][0], payload["items"][-1][0]
    results = []
    with _Captured(store, f"{base}/items-{first}-{last}/logs.txt") as cap:
        for index, inputs in payload["items"]:
            item = {**payload, "inputs": inputs, "node_path": f"{payload['node_path']}-{index}",
                    "output_prefix": f"{base}/{index}", "batched": True}
            try:
                answer = _run(store, item, cap.sink)
            except Exception as exc:  # noqa: BLE001 - this item failed; the others go on
                answer = {"status": "FAILED", "error": _error(exc)}
            results.append([index, answer])
    return {"items": results, "logs_uri": cap.result["logs_uri"], "usage": cap.result["usage"],
            "worker": cap.result["worker"], "pool": cap.result["pool"]}


# ------------------------------------------------------------------ dynamic


def _expand_dynamic(store: Any, attempt: Attempt, payload: dict[str, Any], sink: LogSink,
                    granted: AttemptSecrets | None = None) -> dict[str, Any]:
    """Run a dynamic body: answer with the graph it built, for the executor to run.

    Its literal values go to the object store as value refs, and the code of
    every entity it uses as a pickle (beside the parent's bundle, if any). The
    secrets it requested are in its environment (and files) while it runs.
    """
    import hashlib

    import cloudpickle

    prefix = payload["output_prefix"]
    counter = [0]

    def literal(value: Any, tp: Any) -> dict[str, Any]:
        counter[0] += 1
        return {"value": to_ref(store, prefix, f"lit{counter[0]}", tp, value)}

    def code_of(child: Any) -> dict[str, Any]:
        blob = cloudpickle.dumps(child)
        digest = hashlib.sha256(blob).hexdigest()
        path = f"functions/{digest}.pkl"
        if not store.exists(path):
            store.put_bytes(path, blob)
        code = {"pickle": digest}
        if payload["code"].get("bundle"):
            code["bundle"] = payload["code"]["bundle"]
        return code

    def expand() -> Any:
        with _environment(granted.env if granted is not None else {}):
            return attempt.expand(literal=literal, code=code_of)

    try:
        dynamic = _call_watched(store, payload, sink, expand, task=payload["name"])
    except AttemptAborted:
        return {"status": "ABORTED", "error": {"kind": "ABORTED", "type": "Aborted", "message": "aborted"}}
    except OutOfMemoryError as exc:
        print(f"plait: {exc}", file=sys.stderr)
        return {"status": "FAILED", "error": _error(exc, frames=False)}
    except Exception as exc:  # noqa: BLE001 - the body failed: reported, not raised
        return {"status": "FAILED", "error": _error(exc, masker=granted.masker if granted else None)}
    finally:
        attempt.close()
    return {"status": "SUCCEEDED", "dynamic": dynamic}


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """`env` set in `os.environ` while the block runs, as `Attempt.call` sets a task's."""
    if not env:
        yield
        return
    with ENV_LOCK:
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

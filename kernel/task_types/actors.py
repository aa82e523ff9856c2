"""Actors: tasks that share a warm, long-lived environment, and `actor_cache`.

An `ActorEnvironment` names a pool of replicas with one image, one set of
environment variables and one set of resources. `@actor.task` makes ordinary
typed tasks that run there: environment-wide settings come from the actor,
per-task settings (retries, cache, timeout, ...) from the decorator. Locally
every replica is this process, so `@actor_cache` keeps its results for as long
as the process lives, as a warm replica would.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any, NamedTuple

from ..config.settings import TaskSettings, build_settings
from ..errors import InputError, UserError
from ..sdk.entity import Entity
from ..sdk.tasks import _TASK_PARAMS, PythonFunctionTask, build_task, check_params

# Settings that belong to the whole environment; a single task cannot change them.
ENVIRONMENT_PARAMS = (
    "container_image",
    "environment",
    "requests",
    "limits",
    "accelerator",
    "secret_requests",
    "pod_template",
    "pod_template_name",
)


class ActorEnvironment:
    """A named pool of `replica_count` warm workers that run `@actor.task` tasks.

    `ttl_seconds` is how long an idle replica stays alive (None: the backend's
    default). Image, environment variables, resources, accelerator, secrets
    and pod template apply to every task of the actor.
    """

    def __init__(
        self,
        name: str,
        replica_count: int = 1,
        ttl_seconds: int | None = None,
        container_image: Any = None,
        environment: dict[str, str] | None = None,
        requests: Any = None,
        limits: Any = None,
        accelerator: Any = None,
        secret_requests: Any = None,
        pod_template: Any = None,
        pod_template_name: str | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"ActorEnvironment expects a non-empty name, got {name!r}")
        owner = f"ActorEnvironment `{name}`"
        if isinstance(replica_count, bool) or not isinstance(replica_count, int) or replica_count < 1:
            raise InputError(
                f"{owner}: replica_count expects a whole number >= 1, got {replica_count!r}"
            )
        if ttl_seconds is not None and (
            isinstance(ttl_seconds, bool)
            or not isinstance(ttl_seconds, (int, float))
            or ttl_seconds <= 0
        ):
            raise InputError(
                f"{owner}: ttl_seconds expects a positive number of seconds (or None for the "
                f"default), got {ttl_seconds!r}"
            )
        self.name = name
        self.replica_count = replica_count
        self.ttl_seconds = ttl_seconds
        # Validated once, here, with messages that name the actor.
        self.settings: TaskSettings = build_settings(
            owner,
            container_image=container_image,
            environment=environment,
            requests=requests,
            limits=limits,
            accelerator=accelerator,
            secret_requests=secret_requests,
            pod_template=pod_template,
            pod_template_name=pod_template_name,
        )

    # Read-only views of the environment-wide settings.
    @property
    def container_image(self) -> Any:
        return self.settings.container_image

    @property
    def environment(self) -> dict[str, str]:
        return dict(self.settings.environment)

    @property
    def requests(self) -> Any:
        return self.settings.requests

    @property
    def limits(self) -> Any:
        return self.settings.limits

    @property
    def accelerator(self) -> Any:
        return self.settings.accelerator

    @property
    def secret_requests(self) -> tuple[Any, ...]:
        return self.settings.secret_requests

    @property
    def pod_template(self) -> Any:
        return self.settings.pod_template

    def task(self, _fn: Callable[..., Any] | None = None, **params: Any) -> Any:
        """`@actor.task` or `@actor.task(retries=2, cache=True, ...)`: a task run by this actor."""
        env_level = sorted(k for k in params if k in ENVIRONMENT_PARAMS)
        if env_level:
            raise UserError(
                f"@{self.name}.task: {env_level} apply to the whole actor; set them on "
                f"ActorEnvironment(name={self.name!r}, ...) instead of on the task"
            )
        check_params(f"@{self.name}.task", params, set(_TASK_PARAMS) - set(ENVIRONMENT_PARAMS))

        def wrap(fn: Callable[..., Any]) -> ActorTask:
            return build_task(ActorTask, fn, params, adjust=self._merge, actor=self)  # type: ignore[no-any-return]

        return wrap(_fn) if _fn is not None else wrap

    def _merge(self, own: TaskSettings) -> TaskSettings:
        env = self.settings
        return replace(
            own,
            container_image=env.container_image,
            environment=dict(env.environment),
            requests=env.requests,
            limits=env.limits,
            accelerator=env.accelerator,
            secret_requests=env.secret_requests,
            pod_template=env.pod_template,
            pod_template_name=env.pod_template_name,
        )

    def to_spec(self) -> dict[str, Any]:
        settings = self.settings.to_spec()
        return {
            "name": self.name,
            "replica_count": self.replica_count,
            "ttl_seconds": self.ttl_seconds,
            **{k: settings[k] for k in ENVIRONMENT_PARAMS},
        }

    def __repr__(self) -> str:
        return f"ActorEnvironment(name={self.name!r}, replica_count={self.replica_count})"


class ActorTask(PythonFunctionTask):
    """A task that runs on an actor's replicas; its spec carries the actor."""

    def __init__(self, function: Callable[..., Any], settings: TaskSettings, *, actor: ActorEnvironment, **kw: Any) -> None:
        super().__init__(function, settings, environment_name=actor.name, **kw)
        self.actor = actor

    def to_spec(self) -> dict[str, Any]:
        from ..model.keys import content_version

        spec = super().to_spec()
        spec.pop("version", None)
        spec["actor"] = self.actor.to_spec()
        spec["version"] = content_version(spec)
        return spec


# ----------------------------------------------------------------- actor_cache


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    currsize: int


class ActorCacheKeyError(UserError, TypeError):
    """An `@actor_cache` function was called with an argument that cannot be a key."""


class _ActorCached:
    """A function whose results are kept per process, keyed by its arguments.

    Calls that differ only in how arguments are passed (`f(3)`, `f(state=3)`)
    share an entry. Concurrent calls with the same arguments compute once;
    the others wait and read the result. Exceptions are not cached.
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.__wrapped__ = fn
        functools.update_wrapper(self, fn)
        self._signature = inspect.signature(fn)
        self._results: dict[Hashable, Any] = {}
        self._pending: dict[Hashable, threading.RLock] = {}
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def _key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.__wrapped__.__qualname__}(): {exc}") from None
        bound.apply_defaults()
        parts = []
        for name, value in bound.arguments.items():
            kind = self._signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                value = tuple(sorted(value.items()))
            parts.append((name, value))
        key = tuple(parts)
        try:
            hash(key)
        except TypeError:
            bad = next(n for n, v in parts if not _hashable(v))
            found = type(bound.arguments[bad]).__name__
            raise ActorCacheKeyError(
                f"@actor_cache `{self.__wrapped__.__qualname__}`: argument `{bad}` of type "
                f"`{found}` cannot be a cache key because it is not hashable; pass a hashable "
                "value (a tuple instead of a list, a frozenset instead of a set) or define "
                f"`__hash__` and `__eq__` on `{found}`"
            ) from None
        return key

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = self._key(args, kwargs)
        results = self._results
        try:
            value = results[key]
        except KeyError:
            pass
        else:
            with self._lock:
                self._hits += 1
            return value
        with self._lock:
            if key in results:
                self._hits += 1
                return results[key]
            gate = self._pending.setdefault(key, threading.RLock())
        with gate:
            with self._lock:
                if key in results:  # another caller computed it while we waited
                    self._hits += 1
                    return results[key]
                self._misses += 1
            try:
                value = self.__wrapped__(*args, **kwargs)
            finally:
                with self._lock:
                    if self._pending.get(key) is gate:
                        del self._pending[key]
            with self._lock:
                results[key] = value
            return value

    def cache_info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._results))

    def cache_clear(self) -> None:
        with self._lock:
            self._results.clear()
            self._hits = self._misses = 0

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return functools.partial(self, obj)

    def __repr__(self) -> str:
        return f"<actor_cache {self.__wrapped__.__qualname__}>"


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def actor_cache(fn: Callable[..., Any] | None = None) -> Any:
    """Keep a function's results for the life of the process (the actor replica).

    Use it for expensive set-up shared by the tasks that run on an actor, such
    as loading a model: `@actor_cache` or `@actor_cache()`. Arguments are the
    key, so they must be hashable (custom classes: define `__hash__` and
    `__eq__`). `f.cache_info()` and `f.cache_clear()` work as in functools.
    """
    if fn is None:
        return actor_cache
    if isinstance(fn, Entity):
        raise UserError(
            f"@actor_cache applied to task `{fn.name}`; cache a plain helper function and call "
            "it from the task instead"
        )
    if not callable(fn):
        raise UserError(f"@actor_cache expects a function, got {type(fn).__name__}")
    return _ActorCached(fn)

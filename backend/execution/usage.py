"""What one attempt uses, measured for the attempt itself, and its memory limit.

A Dask worker is one process that runs several attempts, on threads, one after
another or at once; its own figures say little about a task. So `Usage`
measures an attempt:

- **CPU**: the CPU time of the threads that work for the attempt (the Dask
  thread that runs it and the attempt thread its body runs on; each thread's
  own clock, `pthread_getcpuclockid`), plus that of the processes they start
  and their descendants.
- **Memory**: how far the worker process's resident memory (RSS) grew over
  its value when the attempt started, plus the RSS of the processes the
  attempt started. Memory the process already held and reuses is not counted;
  attempts that run at once in one worker process share that process, and
  each is charged with its growth.
- **GPU** (when NVML, `nvidia-ml-py`, finds a driver): the utilisation and the
  memory in use of the devices visible to the worker (`CUDA_VISIBLE_DEVICES`).

`sample` is called every 0.25 s by the worker's ticker, and every
LIMIT_INTERVAL_S by the thread waiting for an attempt with a memory limit,
which ends the attempt when it goes over (worker.py). Where threads have no
clock of their own (not Linux), CPU is the whole process's.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from plait.errors import UserError

LIMIT_INTERVAL_S = 0.05  # memory of an attempt with a limit is read this often
CPU_WINDOW_S = 0.25  # the CPU peak is the highest average over windows of at least this
GPU_INTERVAL_S = 0.25  # NVML is asked at most this often
SCAN_ALL_S = 1.0  # how often the children of every thread are looked for (see Usage._scan)
MiB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PROC = os.path.isdir("/proc/self/task")


# ------------------------------------------------------------------ the limit


class OutOfMemoryError(UserError, MemoryError):
    """An attempt used more memory than its task's `limits` allow; it was stopped."""


@dataclass(frozen=True)
class MemoryLimit:
    """A task's memory limit: `bytes`, and `text` as the task wrote it (`"256Mi"`)."""

    bytes: int
    text: Any

    @classmethod
    def of(cls, limits: dict[str, Any] | None) -> MemoryLimit | None:
        """The memory limit in an attempt's payload (`{"mem": "256Mi"}`), or None."""
        mem = (limits or {}).get("mem")
        if mem is None:
            return None
        from plait.config.resources import parse_memory

        return cls(parse_memory(mem, owner="limits"), mem)

    def error(self, task: str, peak: int) -> OutOfMemoryError:
        # The peak rounded up and the limit down: "129 MiB ... over ... 128 MiB", never "128 ... 128".
        return OutOfMemoryError(
            f"task `{task}` used {-(-peak // MiB):,} MiB at its peak, over its memory limit of "
            f"{self.bytes // MiB:,} MiB (limits=Resources(mem={self.text!r})); it was stopped: raise the "
            "limit or use less memory"
        )


# ------------------------------------------------------------------ processes


def process_rss() -> int:
    """Resident memory of this process, in bytes."""
    try:  # Linux: one small read, a fraction of psutil's cost
        with open("/proc/self/statm", "rb", buffering=0) as f:
            return int(f.read(128).split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        import psutil

        return int(psutil.Process().memory_info().rss)


def _reaped_cpu() -> float:
    """CPU time of this process's children that ended and were waited for."""
    t = os.times()
    return t.children_user + t.children_system


def _boot_ticks() -> float:
    """Now, in the clock of /proc/<pid>/stat's start times (ticks since boot)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME) * _TICKS if hasattr(time, "CLOCK_BOOTTIME") else 0.0


def _read(path: str) -> str:
    with open(path, "rb", buffering=0) as f:
        return f.read(4096).decode()


def _children_of(pid: int | str, tids: Any = None) -> set[int]:
    """Child processes of `pid` (of its threads `tids` only when given)."""
    base = f"/proc/{pid}/task"
    found: set[int] = set()
    try:
        for tid in tids if tids is not None else os.listdir(base):
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in _read(f"{base}/{tid}/children").split())
    except OSError:
        pass
    return found


@dataclass(frozen=True)
class _Proc:
    cpu: float  # seconds: its own and its waited-for children's
    rss: int
    start: int  # ticks since boot (with the pid, tells a process from a later one with its pid)


def _proc(pid: int) -> _Proc | None:
    try:
        stat = _read(f"/proc/{pid}/stat")
        rss = int(_read(f"/proc/{pid}/statm").split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # fields from the 3rd on: state is fields[0]
    cpu = sum(int(fields[i]) for i in (11, 12, 13, 14)) / _TICKS  # utime stime cutime cstime
    return _Proc(cpu, rss, int(fields[19]))


def _kill(pid: int, start: int) -> None:
    """SIGKILL `pid` if it is still the process that started at `start`."""
    found = _proc(pid)
    if found is not None and found.start == start:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def release_memory() -> None:
    """Give back what a stopped attempt held: collect its cycles and trim the C heap."""
    gc.collect()
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)


# ------------------------------------------------------------------ threads


class _Clock:
    """The CPU clock of one thread, readable from any thread of the process."""

    __slots__ = ("tid", "clock")

    def __init__(self) -> None:  # on the thread itself: its pthread id is valid now
        self.tid = threading.get_native_id()
        try:
            self.clock: int | None = time.pthread_getcpuclockid(threading.get_ident())
        except (AttributeError, OSError):  # not on this platform: the process's clock instead
            self.clock = None

    def read(self) -> float:
        if self.clock is None:
            return time.process_time()
        return time.clock_gettime(self.clock)


# ------------------------------------------------------------------ GPUs

_nvml: dict[str, Any] = {}  # "module": pynvml after nvmlInit (None: no NVML); env value -> handles


def _open_nvml() -> Any:
    if "module" not in _nvml:
        try:
            import pynvml

            pynvml.nvmlInit()
            _nvml["module"] = pynvml
        except Exception:  # noqa: BLE001 - no nvidia-ml-py, no driver, no device: no GPU figures
            _nvml["module"] = None
    return _nvml["module"]


def visible_gpus() -> Gpus | None:
    """The GPUs this worker may use, as NVML sees them; None without NVML or devices.

    `CUDA_VISIBLE_DEVICES` names them by NVML index (PCI bus order: set
    `CUDA_DEVICE_ORDER=PCI_BUS_ID` for CUDA to count the same way) or by UUID
    (`GPU-...`, `MIG-...`); unset, every device is visible.
    """
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None and env.strip() in ("", "-1", "NoDevFiles"):
        return None
    nvml = _open_nvml()
    if nvml is None:
        return None
    key = f"devices:{env}"
    if key not in _nvml:
        handles = []
        try:
            names: list[Any] = list(range(nvml.nvmlDeviceGetCount())) if env is None else env.split(",")
        except Exception:  # noqa: BLE001
            names = []
        for name in names:
            name = name.strip() if isinstance(name, str) else name
            try:
                if isinstance(name, int) or name.isdigit():
                    handles.append(nvml.nvmlDeviceGetHandleByIndex(int(name)))
                elif name:
                    handles.append(nvml.nvmlDeviceGetHandleByUUID(name))
            except Exception:  # noqa: BLE001 - a device NVML does not know: not measured
                pass
        _nvml[key] = handles
    return Gpus(nvml, _nvml[key]) if _nvml[key] else None


class Gpus:
    """Samples of the visible GPUs: mean utilisation (%) and memory in use (bytes, summed)."""

    def __init__(self, nvml: Any, handles: list[Any]) -> None:
        self.nvml, self.handles = nvml, handles
        self.util: list[float] = []
        self.mem: list[int] = []
        self.at = 0.0

    def sample(self) -> None:
        self.at = time.monotonic()
        util, mem, seen = [], 0, False
        for h in self.handles:
            with contextlib.suppress(Exception):  # MIG devices have no utilisation
                util.append(float(self.nvml.nvmlDeviceGetUtilizationRates(h).gpu))
            with contextlib.suppress(Exception):
                mem += int(self.nvml.nvmlDeviceGetMemoryInfo(h).used)
                seen = True
        if util:
            self.util.append(sum(util) / len(util))
        if seen:
            self.mem.append(mem)

    def fields(self) -> dict[str, float]:
        out: dict[str, float] = {}
        if self.util:
            out.update(gpu_util_avg=sum(self.util) / len(self.util), gpu_util_peak=max(self.util))
        if self.mem:
            out.update(gpu_mem_avg=float(sum(self.mem) / len(self.mem)), gpu_mem_peak=float(max(self.mem)))
        return out


# ------------------------------------------------------------------ usage

_live: set[Usage] = set()  # the attempts measured in this process now
_live_lock = threading.Lock()
_local = threading.local()


def current() -> Usage | None:
    """The usage of the attempt that this thread runs (None outside one)."""
    return getattr(_local, "usage", None)


class Usage:
    """CPU, memory (and GPUs) of one attempt, from its start to `close`.

    Made on the thread that runs the attempt; the threads that work for it
    besides call `enter` and `leave`. `sample` may be called from any thread.
    The answer (`close`): `cpu_avg` (cores: CPU time over wall time),
    `cpu_peak` (the highest average over a window of CPU_WINDOW_S or more),
    `mem_avg` and `mem_peak` (bytes, over the samples), `samples`, and, with
    GPUs, `gpu_util_avg`, `gpu_util_peak` (%), `gpu_mem_avg`, `gpu_mem_peak`
    (bytes). A short attempt has one sample: its end.
    """

    def __init__(self, limit: MemoryLimit | None = None) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._closed = False
        self._t0 = time.monotonic()
        self._start_ticks = _boot_ticks()
        self._rss0 = process_rss()
        self._reaped0 = _reaped_cpu()
        self._own = _Clock()
        self._own0 = self._own.read()
        self._busy: dict[int, tuple[_Clock, float]] = {}  # threads working for it now: tid -> clock, CPU then
        self._done = 0.0  # CPU of the threads that worked for it and are done
        self._tops: dict[int, int] = {}  # the processes it started: pid -> start
        self._kids: dict[int, _Proc] = {}  # those and their descendants, last seen
        self._scanned_all = self._t0  # a short attempt costs no look at every thread
        self._cpu = 0.0
        self._window = (self._t0, 0.0)
        self.cpu_rates: list[float] = []
        self.mem: list[int] = []
        self.gpus = visible_gpus()
        _local.usage = self
        with _live_lock:
            _live.add(self)

    # -------------------------------------------------------------- threads
    def enter(self) -> None:
        """This thread works for the attempt from now on (until `leave`)."""
        clock = _Clock()
        if clock.clock is None:
            return  # no clock per thread: the process's, read for the attempt's own thread, has it
        with self._lock:
            self._busy[clock.tid] = (clock, clock.read())

    def leave(self, tid: int | None = None) -> None:
        """Thread `tid` (this one by default) no longer works for the attempt."""
        with self._lock:
            found = self._busy.pop(threading.get_native_id() if tid is None else tid, None)
            if found is not None:
                with contextlib.suppress(OSError):
                    self._done += found[0].read() - found[1]

    # -------------------------------------------------------------- processes
    def _scan(self, now_all: bool = False) -> tuple[float, int]:
        """CPU and RSS of the processes the attempt started, and theirs (Linux).

        The children of the threads working for it are looked for at each sample. When it
        is the only attempt in the process, the children of any thread are its too (a
        task's own threads may start processes): those are looked for every SCAN_ALL_S,
        as each read of /proc waits for the GIL while a busy task holds it.
        """
        if not _PROC:
            return 0.0, 0
        with _live_lock:
            alone = len(_live) == 1
        now = time.monotonic()
        every = alone and (now_all or now - self._scanned_all >= SCAN_ALL_S)
        if every:
            self._scanned_all = now
        found = _children_of("self", None if every else [self._own.tid, *self._busy]) | set(self._tops)
        tops: dict[int, int] = {}
        seen: dict[int, _Proc] = {}
        for pid in found:
            proc = _proc(pid)
            # A child of the worker is the attempt's if it started after the attempt did.
            if proc is not None and self._tops.get(pid, proc.start) == proc.start \
                    and proc.start >= self._start_ticks - 1:
                tops[pid] = proc.start
                seen[pid] = proc
        todo = [c for pid in seen for c in _children_of(pid)]
        while todo:
            pid = todo.pop()
            proc = _proc(pid) if pid not in seen else None
            if proc is not None:
                seen[pid] = proc
                todo.extend(_children_of(pid))
        self._tops, self._kids = tops, seen
        return sum(p.cpu for p in seen.values()), sum(p.rss for p in seen.values())

    def kill_processes(self) -> None:
        """SIGKILL the processes the attempt started (a stopped attempt's, which may hog memory)."""
        with self._lock:
            self._scan(now_all=True)
            kids = dict(self._kids)
        for pid, proc in kids.items():
            _kill(pid, proc.start)

    # -------------------------------------------------------------- samples
    def sample(self) -> int:
        """Take a sample now; answer the memory the attempt uses (bytes)."""
        with self._lock:
            if self._closed:
                return self.mem[-1] if self.mem else 0
            try:
                return self._sample()
            except Exception:  # noqa: BLE001 - a sample is best effort; the last one stands
                return self.mem[-1] if self.mem else 0

    def _sample(self) -> int:
        """One sample, under the lock."""
        kids_cpu, kids_rss = self._scan()
        charge = max(0, process_rss() - self._rss0) + kids_rss
        self.mem.append(charge)
        cpu = self._done + kids_cpu + _reaped_cpu() - self._reaped0
        with contextlib.suppress(OSError):
            cpu += self._own.read() - self._own0
        for clock, start in self._busy.values():
            with contextlib.suppress(OSError):  # a thread that just ended
                cpu += clock.read() - start
        now = time.monotonic()  # with the clocks, after the reads that may wait for the GIL
        self._cpu = cpu
        t, c = self._window
        if now - t >= CPU_WINDOW_S:
            self.cpu_rates.append((cpu - c) / (now - t))
            self._window = (now, cpu)
        if self.gpus is not None and now - self.gpus.at >= GPU_INTERVAL_S:
            self.gpus.sample()
        return charge

    def close(self) -> dict[str, float]:
        with _live_lock:
            _live.discard(self)
        if getattr(_local, "usage", None) is self:
            _local.usage = None
        self.sample()
        with self._lock:
            self._closed = True
            avg = self._cpu / max(time.monotonic() - self._t0, 1e-6)
            out = {
                "cpu_peak": max(self.cpu_rates + [avg]),
                "cpu_avg": avg,
                "mem_peak": float(max(self.mem, default=0)),
                "mem_avg": float(sum(self.mem) / len(self.mem)) if self.mem else 0.0,
                "samples": len(self.mem),
            }
            if self.gpus is not None:
                out.update(self.gpus.fields())
            return out

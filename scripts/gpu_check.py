"""The GPU check: a pool advertising this machine's GPU, a task that computes on it, and the
NVML figures the backend recorded for it. Run by scripts/gpu-check.sh; exits 1 when a step
fails, saying which."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROGRAM = '''
import os
import time

from plait import Resources, task


@task(limits=Resources(gpu="1"))
def gpu_matmul(n: int, seconds: float) -> dict:
    """Matrix products on the GPU for `seconds`, with torch or else cupy."""
    try:
        import torch

        device = torch.device("cuda")
        a = torch.rand(n, n, device=device)
        name, mul, sync = torch.cuda.get_device_name(0), (lambda: a @ a), torch.cuda.synchronize
    except ImportError:
        import cupy

        a = cupy.random.rand(n, n, dtype=cupy.float32)
        name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        mul, sync = (lambda: a @ a), cupy.cuda.Device().synchronize
    products, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        mul()
        sync()
        products += 1
    return {"device": name, "products": products, "pool": os.environ.get("PLAIT_POOL"),
            "visible": os.environ.get("CUDA_VISIBLE_DEVICES")}
'''


def fail(step: str, detail: str) -> None:
    print(f"gpu-check: FAILED at {step}: {detail}")
    sys.exit(1)


def main() -> None:
    if shutil.which("nvidia-smi") is None:
        fail("finding a GPU", "nvidia-smi is not on PATH; run this on a machine with an NVIDIA GPU and driver")
    listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True).stdout.strip()
    if not listed:
        fail("finding a GPU", "nvidia-smi lists no GPU")
    print(listed)
    try:
        import pynvml  # noqa: F401
    except ImportError:
        fail("NVML", "nvidia-ml-py is not installed: run `make install` (it is a server dependency)")
    if subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode and \
            subprocess.run([sys.executable, "-c", "import cupy"], capture_output=True).returncode:
        fail("a GPU library", "neither torch nor cupy imports in this Python; install one (e.g. "
             "`uv pip install torch` or `uv pip install cupy-cuda12x`)")
    folder = Path(tempfile.mkdtemp(prefix="plait-gpu-check-"))
    home = folder / "home"
    (folder / "cluster.yaml").write_text("kind: local\npools:\n  - name: cpu\n  - name: gpu\n"
                                         "    resources: {gpu: 1}\n    max_workers: 1\n")
    (folder / "gpu_program.py").write_text(PROGRAM)
    env = {**os.environ, "PLAIT_HOME": str(home)}
    server = subprocess.Popen([sys.executable, "-m", "plait", "server", "--port", "0", "--cluster",
                               str(folder / "cluster.yaml")], env=env, stdout=subprocess.DEVNULL,
                              stderr=open(folder / "server.log", "wb"), start_new_session=True)
    os.environ["PLAIT_HOME"] = str(home)
    try:
        from plait.remote import Remote

        deadline = time.monotonic() + 120
        while True:
            try:
                remote = Remote(autostart=False, timeout=120)
                remote.health()
                break
            except Exception as exc:  # noqa: BLE001 - still starting
                if server.poll() is not None or time.monotonic() > deadline:
                    fail("starting the server", f"{exc}; log: {folder / 'server.log'}")
                time.sleep(0.5)
        remote.register(str(folder / "gpu_program.py"))
        ran = remote.execute(remote.fetch_task("gpu_program.gpu_matmul"), {"n": 4096, "seconds": 5.0},
                             wait=True, timeout=300)
        if ran.phase != "SUCCEEDED":
            fail("running the task", str(ran.error))
        (node,) = [n for n in ran.nodes() if n.attempts]
        attempt = node.attempts[-1]
        figures = {k: attempt.get(k) for k in ("pool", "worker", "cpu_avg", "mem_peak", "gpu_util_avg",
                                               "gpu_util_peak", "gpu_mem_avg", "gpu_mem_peak")}
        print(json.dumps({"output": ran.outputs["o0"], "attempt": figures}, indent=2))
        if attempt.get("pool") != "gpu":
            fail("routing", f"the task ran in pool {attempt.get('pool')!r}, not gpu")
        if not attempt.get("gpu_util_peak"):
            fail("NVML figures", "no GPU utilisation was recorded for the attempt")
        print("gpu-check: OK")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

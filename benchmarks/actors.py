"""Actors against plain tasks: a task with a SETUP_S-second set-up (a model load) mapped over
ITEMS items, on the embedded default cluster of `plait server`.

    python benchmarks/actors.py                       # 2 s set-up, 100 items, 2 replicas
    python benchmarks/actors.py --items 20 --setup 1

The plain task loads the model for every item (its workers run the items side by side, as
many as the default pool has workers); the actor task runs on the actor's warm replicas, and
`actor_cache` loads the model once per replica. Both times and their ratio are printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--setup", type=float, default=2.0, help="seconds of set-up (default 2)")
    parser.add_argument("--replicas", type=int, default=2)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from serving import plait_server

    folder = Path(tempfile.mkdtemp(prefix="plait-bench-actors-"))
    program = folder / "actor_programs.py"
    program.write_text((HERE / "actor_programs.py").read_text()
                       .replace("SETUP_S = 2.0", f"SETUP_S = {args.setup!r}")
                       .replace("REPLICAS = 2", f"REPLICAS = {args.replicas!r}"))
    with plait_server() as (remote, _home):
        remote.register(str(program))
        xs = list(range(args.items))
        times: dict[str, float] = {}
        for name in ("plain_all", "actor_all"):
            entity = remote.fetch_workflow(f"actor_programs.{name}")
            t0 = time.perf_counter()
            ran = remote.execute(entity, {"xs": xs}).wait(poll=0.05)
            times[name] = time.perf_counter() - t0
            assert ran.phase == "SUCCEEDED", ran.error
            assert ran.outputs["o0"] == [2.0 * x for x in xs]
    shutil.rmtree(folder, ignore_errors=True)
    plain, actor = times["plain_all"], times["actor_all"]
    print(f"{args.items} items, {args.setup:g} s set-up each:")
    print(f"  plain task (loads per item)          {plain:8.1f} s")
    print(f"  actor task, {args.replicas} replicas, actor_cache  {actor:8.1f} s")
    print(f"  ratio plain / actor                  {plain / actor:8.1f}x")
    print(json.dumps({"items": args.items, "setup_s": args.setup, "plain_s": plain, "actor_s": actor,
                      "ratio": plain / actor}))


if __name__ == "__main__":
    main()

"""Worker pools: what routing costs, how fast a cold pool serves, and a map across two pools.

    python benchmarks/pools.py

On `plait server --cluster` with a CPU pool, an interruptible pool and a pool made on demand
for an ImageSpec environment (built before it is timed):
- first task on a cold pool of an already built environment (goal <= 3 s), beside the same
  task once the pool is warm;
- routing per attempt (`ClusterShape.route`, the placement of every attempt), measured
  in-process, as a share of the per-node time of a 200-node chain on the server (goal <= 5%);
  the chain beside a raw `client.submit` chain on the same cluster;
- a 1,000-item map, half on each of two pools, beside raw `client.map` on the same cluster.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import timeit
from pathlib import Path

HERE = Path(__file__).parent
CLUSTER = """\
kind: local
pools:
  - name: cpu
    min_workers: 2
    max_workers: 2
  - name: spot
    interruptible: true
    min_workers: 1
    max_workers: 1
"""


def main() -> None:
    sys.path.insert(0, str(HERE))
    from serving import plait_server, raw_chain, raw_map

    folder = Path(tempfile.mkdtemp(prefix="plait-bench-pools-"))
    (folder / "cluster.yaml").write_text(CLUSTER)
    rows: list[tuple[str, str, str, str]] = []
    figures: dict[str, float] = {}
    with plait_server("--cluster", str(folder / "cluster.yaml")) as (remote, home):
        import pool_programs as pp
        from distributed import Client
        from plait.backend.config import dask_security
        from plait.environments import resolve

        remote.register(str(HERE / "pool_programs.py"))
        resolve(pp.image, home=home)  # built before it is timed: the server finds it built
        remote.execute(remote.fetch_workflow("pool_programs.two_pools"), {"xs": [1], "ys": [1]}, wait=True)

        task = remote.fetch_task("pool_programs.in_image")
        runs = []
        for _ in range(2):  # cold: no pool has the environment yet; then warm
            t0 = time.perf_counter()
            ran = remote.execute(task, {"x": 1}).wait(poll=0.02)
            runs.append(time.perf_counter() - t0)
            assert ran.outputs["o0"] == 2, ran.error
        rows.append(("first task on a cold pool (environment built)", f"{runs[0]:.2f} s",
                     f"warm {runs[1]:.2f} s", "goal <= 3 s: " + ("met" if runs[0] <= 3 else "MISSED")))
        figures.update(cold_s=runs[0], warm_s=runs[1])

        scheduler = remote.health()["dask_scheduler"]
        security = dask_security(home)
        chain = remote.fetch_workflow("pool_programs.chain")
        with Client(scheduler, security=security) as client:
            raw_chain(client, 5)
            t0 = time.perf_counter()
            ran = remote.execute(chain, {"x": 0}).wait(poll=0.02)
            plait_chain = time.perf_counter() - t0
            assert ran.outputs["o0"] == 200
            dask_chain = raw_chain(client, 200)
            items = list(range(500))
            t0 = time.perf_counter()
            ran = remote.execute(remote.fetch_workflow("pool_programs.two_pools"), {"xs": items, "ys": items}
                                 ).wait(poll=0.02)
            plait_map = time.perf_counter() - t0
            assert ran.outputs["o0"][:2] == [1, 2] and ran.outputs["o1"][-1] == 500, ran.error
            pools = {a.get("pool") for n in ran.nodes() for a in n.attempts}
            dask_map = raw_map(client, 1000)
        route_s = routing_cost(folder / "cluster.yaml")
        per_node = plait_chain / 200
        rows.append(("routing per attempt", f"{route_s * 1e6:.1f} us",
                     f"{route_s / per_node * 100:.2f}% of a chain node ({per_node * 1e3:.2f} ms)",
                     "goal <= 5%: " + ("met" if route_s <= 0.05 * per_node else "MISSED")))
        rows.append(("200-node chain, per node", f"{per_node * 1e3:.2f} ms",
                     f"raw client.submit {dask_chain / 200 * 1e3:.2f} ms", f"ratio {plait_chain / dask_chain:.2f}x"))
        rows.append(("1,000-item map on two pools", f"{1000 / plait_map:,.0f} items/s",
                     f"raw client.map {1000 / dask_map:,.0f} items/s", f"pools {sorted(p for p in pools if p)}"))
        figures.update(route_s=route_s, chain_node_s=per_node, dask_chain_node_s=dask_chain / 200,
                       map_items_per_s=1000 / plait_map, dask_map_items_per_s=1000 / dask_map)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    print(json.dumps(figures))


def routing_cost(cluster_file: Path) -> float:
    """Seconds per `ClusterShape.route` of a plain task over the file's pools (no manager)."""
    from plait.backend.compute import load
    from plait.backend.execution.cluster import ClusterShape
    from plait.model.specs import TaskSpec

    sys.path.insert(0, str(HERE))
    import pool_programs as pp

    spec = TaskSpec.from_dict(pp.spot_inc.to_spec())
    shape = ClusterShape(load(cluster_file))
    n = 20_000
    return timeit.timeit(lambda: shape.route(spec, {}), number=n) / n


if __name__ == "__main__":
    main()

"""Execution: claiming executions and driving them on Dask.

- `executor`: the loop thread that owns every run, its Dask client and its leases;
- `ports`: the executor's interfaces (`ExecutorPort` for the routes, `RunHost` for runs);
- `run`: one execution's scopes, node states and transitions (`ExecutionRun`), with
  its parts `entities`, `caching`, `presubmit`, `maps`, `graphs` and `children`;
- `scope`, `attempts`, `journal`, `cluster`, `values`: what those share;
- `worker`: what runs on a Dask worker; `proxy`: the executor seen from an API process.
"""

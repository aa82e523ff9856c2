"""The artifact catalog of the backend: versions recorded with their node's success, queries
resolved at launch (`catalog`), and launch plans that react to new versions (`triggers`).

The tables and their queries are in `plait.backend.store.queries.artifacts`; the routes in
`plait.backend.api.routes_artifacts`. docs/artifacts.md tells the whole story.
"""

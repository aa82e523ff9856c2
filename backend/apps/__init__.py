"""Apps: long-running web apps (FastAPI and any ASGI app, Panel, Streamlit, plain HTTP servers)
that the server runs as replicas and serves under `/apps/<project>/<domain>/<name>/`.

`manager` keeps each app's replicas running and scales them; `replicas` starts one (its folder,
command line, environment, health check); `inputs` resolves an app's inputs (literals and
artifact queries) when it is deployed and hands them to its replicas. The API and the proxy are
in `api/routes_apps.py`.
"""

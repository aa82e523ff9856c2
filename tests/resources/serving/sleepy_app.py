"""A plain HTTP server (the standard library's) that scales to zero after two idle seconds."""

import plait

sleepy = plait.app.App(
    name="sleepy",
    args="python -m http.server 8080 --bind 127.0.0.1 --directory site",
    port=8080,
    include=["site"],
    min_replicas=0,
    scaledown_after=2,
)

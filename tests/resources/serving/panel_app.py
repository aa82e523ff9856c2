"""A Panel app served by plait: `panel serve` on the port plait gives its replica."""

import plait

squares = plait.app.App(
    name="squares",
    args="panel serve panel_main.py --port 8080 --allow-websocket-origin=*",
    port=8080,
    include=["panel_main.py"],
    limits=plait.Resources(cpu="1", mem="1Gi"),
)

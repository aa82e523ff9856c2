"""An app that cannot start: its command exits at once, saying why."""

import plait

broken = plait.app.App(
    name="broken",
    args=["python", "-c", "import sys; print('cannot read settings.toml: no such file', flush=True); sys.exit(3)"],
    port=8080,
)

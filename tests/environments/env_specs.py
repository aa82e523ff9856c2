"""The specs these tests build (resources/images.py names the same ones, so builds are shared)."""

from __future__ import annotations

from pathlib import Path

from plait.config.image_spec import ImageSpec

RESOURCES = Path(__file__).parent / "resources"
IMAGES = RESOURCES / "images.py"
SIX = ImageSpec(name="six-image", packages=["six==1.16.0"])  # the server's six is another version
TOPOSORT = ImageSpec(name="toposort-image", packages=["toposort==1.10"])

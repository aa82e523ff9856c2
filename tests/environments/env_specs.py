"""The specs these tests build (resources/images.py names the same ones, so builds are shared)."""

from __future__ import annotations

from pathlib import Path

from plait.config.image_spec import ImageSpec

RESOURCES = Path(__file__).parent / "resources"
IMAGES = RESOURCES / "images.py"
INFLECTION = ImageSpec(name="inflection-image", packages=["inflection==0.5.1"])  # the server has none
TOPOSORT = ImageSpec(name="toposort-image", packages=["toposort==1.10"])

"""A multi-image program: tasks that share an image, one with its own, one in the default."""

import plait
from plait import ImageSpec

# The same specs as tests/environments/conftest.py builds, so the builds are shared.
six_image = ImageSpec(name="six-image", packages=["six==1.16.0"])
toposort_image = ImageSpec(name="toposort-image", packages=["toposort==1.10"])


@plait.task(container_image=six_image)
def six_version() -> str:
    if six_image.is_container():  # True here and in six-image, False in other environments
        import six

        return six.__version__
    return "not in six-image"


@plait.task(container_image=six_image)
def shout(text: str) -> str:
    return text.upper()


@plait.task
def plain(n: int) -> int:
    return n + 1


@plait.workflow
def multi_image(n: int = 1) -> str:
    version = six_version()
    plain(n=n).with_overrides(container_image=toposort_image)
    return shout(text=version)


@plait.workflow
def default_only(n: int = 1) -> int:
    return plain(n=n)

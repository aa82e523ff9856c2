"""A multi-image program: tasks that share an image, one with its own, one in the default."""

import plait
from plait import ImageSpec

# The same specs as tests/environments/conftest.py builds, so the builds are shared.
inflection_image = ImageSpec(name="inflection-image", packages=["inflection==0.5.1"])
toposort_image = ImageSpec(name="toposort-image", packages=["toposort==1.10"])


@plait.task(container_image=inflection_image)
def inflection_version() -> str:
    if inflection_image.is_container():  # True here and in inflection-image, False in other environments
        import inflection

        return inflection.__version__
    return "not in inflection-image"


@plait.task(container_image=inflection_image)
def shout(text: str) -> str:
    return text.upper()


@plait.task
def plain(n: int) -> int:
    return n + 1


@plait.workflow
def multi_image(n: int = 1) -> str:
    version = inflection_version()
    plain(n=n).with_overrides(container_image=toposort_image)
    return shout(text=version)


@plait.workflow
def default_only(n: int = 1) -> int:
    return plain(n=n)

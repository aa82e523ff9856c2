"""`flytekit.models.common`: labels, annotations, the auth role and the raw output config of a
launch plan."""

from ..config.security import Annotations, AuthRole, Labels, RawOutputDataConfig

__all__ = ["Annotations", "AuthRole", "Labels", "RawOutputDataConfig"]

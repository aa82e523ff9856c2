"""`flytekit.exceptions.user`: the errors a task raises on purpose."""

from ..errors import FlyteRecoverableException, UserError

FlyteUserException = UserError
"""flytekit's name for an error that is the user's to fix."""

__all__ = ["FlyteRecoverableException", "FlyteUserException"]

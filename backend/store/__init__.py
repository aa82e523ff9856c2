"""The backend's metadata: SQLAlchemy models, plain query functions, frozen records.

Callers use `Database` (db.py), the functions of `queries` and the records of
`records`; ORM rows never leave this package.
"""

from .db import Database
from .errors import Conflict, InvalidRequest, NotFound, StoreError

__all__ = ["Conflict", "Database", "InvalidRequest", "NotFound", "StoreError"]

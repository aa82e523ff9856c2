"""What the `s3` fixture (conftest.py) gives a test: a running S3-compatible server.

A module of its own, so test folders other than this one import it by name
(conftest modules of two folders would clash).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class S3:
    """A running S3-compatible server: its endpoint, a bucket, and the variables that reach it."""

    endpoint: str
    bucket: str

    @property
    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": "plait-tests", "AWS_SECRET_ACCESS_KEY": "plait-tests-secret",
                "AWS_ENDPOINT_URL": self.endpoint, "AWS_DEFAULT_REGION": "us-east-1"}

    def url(self, prefix: str = "") -> str:
        """`s3://bucket/<prefix>`, a fresh prefix if none is given."""
        return f"s3://{self.bucket}/{prefix or uuid.uuid4().hex}"

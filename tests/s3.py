"""An S3 server on loopback for tests: moto's server mode, in a thread, never the network."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto.server import ThreadedMotoServer

from bot.media.store import S3Store
from tests.loopback import free_port

KEY_ID = "test-key"
SECRET = "test-secret"
REGION = "ap-southeast-3"  # Jakarta


@dataclass
class S3:
    endpoint: str

    def env(self) -> dict[str, str]:
        """The settings a process needs to use this server (as environment variables)."""
        return {"S3_ENDPOINT_URL": self.endpoint, "AWS_REGION": REGION,
                "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}

    def settings(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.env().items()}

    async def new_bucket(self) -> str:
        """Creates a fresh bucket and returns its name."""
        name = f"media-{uuid.uuid4().hex[:10]}"
        store = S3Store(f"s3://{name}", endpoint_url=self.endpoint, region=REGION, access_key=KEY_ID,
                        secret_key=SECRET)
        async with store._client() as s3:
            await s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return name


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3(f"http://127.0.0.1:{port}")
    finally:
        server.stop()

"""Where photos live: a local folder or an S3-compatible bucket, behind one small interface (`MediaStore`).

Keys are `<sha[:2]>/<sha>.<ext>`, the same in every store, so rows (ProductPhoto.path, Outbound.photos) do not
change when the photos move. S3 goes through aiobotocore (botocore's signing), so AWS, MinIO and the S3 of
Indonesian clouds work alike; endpoint, region and keys come from the settings (the environment).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from botocore.exceptions import ClientError

CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


class MediaStore(Protocol):
    url: str

    async def exists(self, key: str) -> bool: ...
    async def put(self, key: str, data: bytes) -> None: ...
    async def put_once(self, key: str, data: bytes) -> bool: ...
    async def read(self, key: str) -> bytes: ...
    async def delete(self, key: str) -> None: ...
    def keys(self) -> AsyncIterator[str]: ...
    def describe(self, key: str) -> str: ...
    async def check(self) -> None: ...


def _aio_config(**options: Any) -> Any:
    from aiobotocore.config import AioConfig

    return AioConfig(**options)


def _check_key(key: str) -> str:
    """A key is relative and stays inside the store (no `..`, no leading `/`)."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"bad media key {key!r}")
    return key


class LocalStore:
    """Photos as files under one folder (the embedded default, `MEDIA_DIR`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.url = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    async def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)

    async def put_once(self, key: str, data: bytes) -> bool:
        """Stores the data unless the key is there already; True when it was written."""
        if await self.exists(key):
            return False
        await self.put(key, data)
        return True

    async def read(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        """Removes the file; one that is already gone is fine."""
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def keys(self) -> AsyncIterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("*/*")):
            if path.is_file() and not path.name.endswith(".tmp"):
                yield path.relative_to(self.root).as_posix()

    def describe(self, key: str) -> str:
        return str(self._path(key))

    async def check(self) -> None:
        """Raises OSError unless the folder (or, before the first photo, its nearest parent) is writable."""
        folder = self.root
        while not folder.exists() and folder.parent != folder:
            folder = folder.parent
        if not folder.is_dir():
            raise NotADirectoryError(f"{folder} is not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(f"{folder} is not writable")


class S3Store:
    """Photos as objects in `s3://bucket/prefix` (AWS S3, MinIO, or any S3-compatible object storage)."""

    def __init__(self, url: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None,
                 addressing_style: str = "auto") -> None:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"MEDIA_URL must look like s3://bucket/prefix, not {url!r}")
        self.url = url
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        if addressing_style == "auto" and endpoint_url:
            addressing_style = "path"  # MinIO and most self-hosted S3 need it; AWS accepts it
        self._client_args = {
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            "aws_access_key_id": access_key or None,
            "aws_secret_access_key": secret_key or None,
            "config": _aio_config(s3={"addressing_style": addressing_style},
                                retries={"max_attempts": 3, "mode": "standard"},
                                connect_timeout=10, read_timeout=30),
        }
        from aiobotocore.session import get_session  # only an S3 store needs aiobotocore (~20 MB)

        self._session = get_session()

    def _object_key(self, key: str) -> str:
        key = _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _client(self):  # type: ignore[no-untyped-def]
        return self._session.create_client("s3", **self._client_args)

    async def exists(self, key: str) -> bool:
        async with self._client() as s3:
            return await self._exists(s3, key)

    async def _exists(self, s3, key: str) -> bool:  # type: ignore[no-untyped-def]
        try:
            await s3.head_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    async def put(self, key: str, data: bytes) -> None:
        async with self._client() as s3:
            await self._put(s3, key, data)

    async def _put(self, s3, key: str, data: bytes) -> None:  # type: ignore[no-untyped-def]
        content_type = CONTENT_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")
        await s3.put_object(Bucket=self.bucket, Key=self._object_key(key), Body=data, ContentType=content_type)

    async def put_once(self, key: str, data: bytes) -> bool:
        """Stores the data unless the key is there already (one connection for both); True when written."""
        async with self._client() as s3:
            if await self._exists(s3, key):
                return False
            await self._put(s3, key, data)
            return True

    async def read(self, key: str) -> bytes:
        async with self._client() as s3:
            response = await s3.get_object(Bucket=self.bucket, Key=self._object_key(key))
            async with response["Body"] as body:
                return await body.read()

    async def delete(self, key: str) -> None:
        """Removes the object (S3 answers a missing key like a deleted one)."""
        async with self._client() as s3:
            await s3.delete_object(Bucket=self.bucket, Key=self._object_key(key))

    async def keys(self) -> AsyncIterator[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        async with self._client() as s3:
            async for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
                for item in page.get("Contents", []):
                    yield item["Key"][len(start):]

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._object_key(key)}"

    async def check(self) -> None:
        """Raises unless the bucket answers a HEAD (one try; the caller bounds the wait)."""
        style = self._client_args["config"].s3["addressing_style"]  # type: ignore[attr-defined]
        args = {**self._client_args, "config": _aio_config(s3={"addressing_style": style}, connect_timeout=2,
                                                         read_timeout=2, retries={"max_attempts": 1})}
        async with self._session.create_client("s3", **args) as s3:
            await s3.head_bucket(Bucket=self.bucket)


@lru_cache(maxsize=16)
def open_store(url: str, *, endpoint_url: str | None = None, region: str | None = None,
               access_key: str | None = None, secret_key: str | None = None,
               addressing_style: str = "auto") -> MediaStore:
    """`s3://bucket/prefix` -> S3Store; a folder path (or `file://` URL) -> LocalStore (one per settings)."""
    if url.startswith("s3://"):
        return S3Store(url, endpoint_url=endpoint_url, region=region, access_key=access_key,
                       secret_key=secret_key, addressing_style=addressing_style)
    if "://" in url and not url.startswith("file://"):
        raise ValueError(f"MEDIA_URL must be a folder, file:// or s3://bucket/prefix, not {url!r}")
    return LocalStore(Path(url.removeprefix("file://")))

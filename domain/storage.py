"""Where document bytes live: a small storage interface and its default, a local folder.

Keys are chosen by the CRM (`<agency id>/<document id>`), never derived from a user's file
name, and checked again here, so no key can reach outside the storage root. Writes go to a
temporary file in the target folder and are renamed into place: a reader sees the whole file
or nothing, and an aborted upload (too large, client gone) leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import IO, Protocol

CHUNK_BYTES = 64 * 1024
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}(/[a-z0-9][a-z0-9-]{0,63}){0,3}$")


class StorageKeyError(ValueError):
    """A key that is not one the CRM makes (a bug, or an attempt at path traversal)."""


class MissingObject(LookupError):
    """No object under that key."""


class Storage(Protocol):
    """Put, read, size and delete whole objects by key; bytes are streamed both ways."""

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the chunks under `key` (replacing it) and return the size written.

        If iterating `chunks` raises, nothing is stored and the exception propagates.
        """
        ...

    def open(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes, in chunks; MissingObject if there is none."""
        ...

    async def size(self, key: str) -> int:
        """The object's size in bytes; MissingObject if there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""
        ...


def check_key(key: str) -> str:
    """The key if it is one of ours: lowercase segments of letters, digits and dashes."""
    if not _KEY.match(key):
        raise StorageKeyError(f"Not a storage key: {key!r}")
    return key


class LocalFolderStorage:
    """Objects as files under one folder; the default for the embedded stack."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_of(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):  # belt and braces: the pattern already forbids it
            raise StorageKeyError(f"Not a storage key: {key!r}")
        return path

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        target = self.path_of(key)
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        size = 0
        handle: IO[bytes] = await asyncio.to_thread(open, temporary, "xb")
        try:
            try:
                async for chunk in chunks:
                    size += len(chunk)
                    await asyncio.to_thread(handle.write, chunk)
                await asyncio.to_thread(handle.flush)
                await asyncio.to_thread(os.fsync, handle.fileno())
            finally:
                await asyncio.to_thread(handle.close)
            await asyncio.to_thread(os.replace, temporary, target)
        except BaseException:
            await asyncio.to_thread(temporary.unlink, missing_ok=True)
            raise
        return size

    async def open(self, key: str) -> AsyncIterator[bytes]:
        path = self.path_of(key)
        try:
            handle: IO[bytes] = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError as exc:
            raise MissingObject(key) from exc
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def size(self, key: str) -> int:
        try:
            return (await asyncio.to_thread(self.path_of(key).stat)).st_size
        except FileNotFoundError as exc:
            raise MissingObject(key) from exc

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path_of(key).unlink, missing_ok=True)

"""The local-folder storage: whole files or nothing, and no key outside its folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.storage import LocalFolderStorage, MissingObject, StorageKeyError

KEY = "4f1c2d3e-0000-4000-8000-000000000001/0b0e8a52-1111-4111-8111-111111111111"


async def chunks(*parts: bytes, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for number, part in enumerate(parts):
        if fail_after is not None and number == fail_after:
            raise RuntimeError("client went away")
        yield part


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def read_all(storage: LocalFolderStorage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.open(key)])


async def test_put_open_size_delete_round_trip(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    assert await storage.put(KEY, chunks(b"hello ", b"world")) == 11
    assert await storage.size(KEY) == 11
    assert await read_all(storage, KEY) == b"hello world"
    assert await storage.put(KEY, chunks(b"replaced")) == 8
    assert await read_all(storage, KEY) == b"replaced"
    await storage.delete(KEY)
    await storage.delete(KEY)  # deleting twice is fine
    with pytest.raises(MissingObject):
        await storage.size(KEY)
    with pytest.raises(MissingObject):
        await read_all(storage, KEY)


async def test_a_failed_stream_leaves_neither_a_file_nor_a_partial_one(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    await storage.put(KEY, chunks(b"kept"))
    with pytest.raises(RuntimeError):
        await storage.put(KEY, chunks(b"new ", b"half", fail_after=1))
    assert await read_all(storage, KEY) == b"kept"  # the old file is untouched
    other = KEY.replace("0001", "0002")
    with pytest.raises(RuntimeError):
        await storage.put(other, chunks(b"x", b"y", fail_after=1))
    assert [p.name for p in files_under(tmp_path)] == [KEY.split("/")[1]]


@pytest.mark.parametrize(
    "key", ["../escape", "a/../../b", "/etc/passwd", "a//b", "A/B", "a/b.txt", "", "a/./b", "a\\b"]
)
async def test_keys_that_are_not_ours_are_refused(tmp_path: Path, key: str) -> None:
    storage = LocalFolderStorage(tmp_path / "docs")
    with pytest.raises(StorageKeyError):
        await storage.put(key, chunks(b"x"))
    with pytest.raises(StorageKeyError):
        await storage.delete(key)
    assert files_under(tmp_path) == []

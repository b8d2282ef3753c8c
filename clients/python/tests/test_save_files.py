"""``save()`` keeps the CLI's file rules (issue 22, item 10), on real files, FIFOs, symlinks and
devices, against a real ``detour serve``: mode and owner kept, symlinks kept (their target
replaced atomically), FIFOs and devices written into, ``''`` refused."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import threading
from pathlib import Path
from typing import List

import pytest

from detour_client import AsyncDetour, BadRequest, Detour, DetourError


def _big(lab, n: int, tag: str) -> str:
    return f"{lab['http']}/big?bytes={n}&n={tag}"


def test_keeps_the_mode_of_an_existing_file(serve, lab, tmp_path: Path):
    target = tmp_path / "secret.bin"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    old_inode = target.stat().st_ino
    with Detour(serve.url) as detour:
        saved = detour.save(_big(lab, 5000, "mode"), target, expect="any")
    assert saved.bytes == 5000 == target.stat().st_size
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.stat().st_ino != old_inode  # replaced by a rename, not rewritten in place
    assert sorted(os.listdir(tmp_path)) == ["secret.bin"]


def test_a_new_file_gets_the_umask_mode(serve, lab, tmp_path: Path):
    old = os.umask(0o027)
    try:
        with Detour(serve.url) as detour:
            detour.save(_big(lab, 100, "umask"), tmp_path / "new.bin", expect="any")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.bin").stat().st_mode) == 0o640


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner needs root")
def test_keeps_the_owner_of_an_existing_file(serve, lab, tmp_path: Path):
    target = tmp_path / "theirs.bin"
    target.write_bytes(b"old")
    os.chown(target, 65534, 65534)
    with Detour(serve.url) as detour:
        detour.save(_big(lab, 300, "owner"), target, expect="any")
    info = target.stat()
    assert (info.st_uid, info.st_gid, info.st_size) == (65534, 65534, 300)


def test_a_symlink_is_kept_and_its_target_replaced(serve, lab, tmp_path: Path):
    real = tmp_path / "data" / "real.bin"
    real.parent.mkdir()
    real.write_bytes(b"old")
    os.chmod(real, 0o640)
    link = tmp_path / "link.bin"
    link.symlink_to(real)
    with Detour(serve.url) as detour:
        saved = detour.save(_big(lab, 4096, "link"), link, expect="any")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.stat().st_size == 4096 and saved.sha256 == hashlib.sha256(real.read_bytes()).hexdigest()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(os.listdir(real.parent)) == ["real.bin"]  # the temporary file was beside the target
    # A link to a file that does not exist yet: the file is created, the link kept.
    dangling = tmp_path / "dangling.bin"
    dangling.symlink_to(tmp_path / "data" / "later.bin")
    with Detour(serve.url) as detour:
        detour.save(_big(lab, 10, "dangling"), dangling, expect="any")
    assert dangling.is_symlink() and (tmp_path / "data" / "later.bin").stat().st_size == 10


def _read_fifo(path: Path, into: List[bytes]) -> threading.Thread:
    def run() -> None:
        with open(path, "rb") as fifo:
            into.append(fifo.read())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_fifo_is_written_into_not_replaced(serve, lab, tmp_path: Path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: List[bytes] = []
    reader = _read_fifo(fifo, got)
    with Detour(serve.url) as detour:
        saved = detour.save(_big(lab, 200_000, "fifo"), fifo, expect="any")
    reader.join(10)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert len(got) == 1 and len(got[0]) == 200_000 == saved.bytes
    assert hashlib.sha256(got[0]).hexdigest() == saved.sha256
    assert sorted(os.listdir(tmp_path)) == ["pipe"]


def test_a_fifo_nobody_reads_is_local_io_not_a_hang(serve, lab, tmp_path: Path):
    fifo = tmp_path / "unread"
    os.mkfifo(fifo)
    with Detour(serve.url) as detour, pytest.raises(DetourError) as caught:
        detour.save(_big(lab, 100, "unread"), fifo, expect="any", timeout=1.0)
    assert caught.value.failure_class == "local-io"
    assert str(fifo) in caught.value.message and "nobody is reading" in caught.value.message
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_device_is_written_into(serve, lab):
    with Detour(serve.url) as detour:
        saved = detour.save(_big(lab, 1000, "devnull"), "/dev/null", expect="any")
    assert saved.bytes == 1000
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_an_empty_path_is_refused_before_any_request(tmp_path: Path):
    # No service at this address: the refusal comes first, not a connection error.
    with Detour("http://127.0.0.1:9") as detour, pytest.raises(BadRequest) as caught:
        detour.save("http://127.0.0.1:9/a.png", "")
    assert caught.value.code == "DETOUR_BAD_PATH"
    with Detour("http://127.0.0.1:9") as detour, pytest.raises(DetourError) as caught:
        detour.save("http://127.0.0.1:9/a.png", tmp_path)
    assert caught.value.failure_class == "local-io"


def test_a_failure_leaves_the_old_file_and_no_temporary(serve, lab, tmp_path: Path):
    target = tmp_path / "keep.bin"
    target.write_bytes(b"previous")
    os.chmod(target, 0o600)
    with Detour(serve.url) as detour, pytest.raises(DetourError):
        detour.save(f"{lab['http']}/reset-mid-body", target, expect="any")
    assert target.read_bytes() == b"previous" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["keep.bin"]


def test_async_save_keeps_the_same_rules(serve, lab, tmp_path: Path):
    real = tmp_path / "real.bin"
    real.write_bytes(b"old")
    os.chmod(real, 0o600)
    link = tmp_path / "link.bin"
    link.symlink_to(real)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: List[bytes] = []

    async def main() -> None:
        async with AsyncDetour(serve.url) as detour:
            await detour.save(_big(lab, 777, "async-link"), link, expect="any")
            reader = _read_fifo(fifo, got)
            await detour.save(_big(lab, 999, "async-fifo"), fifo, expect="any")
            reader.join(10)
            with pytest.raises(BadRequest):
                await detour.save(_big(lab, 1, "async-empty"), "")

    asyncio.run(main())
    assert link.is_symlink() and real.stat().st_size == 777 and stat.S_IMODE(real.stat().st_mode) == 0o600
    assert stat.S_ISFIFO(fifo.stat().st_mode) and len(got[0]) == 999

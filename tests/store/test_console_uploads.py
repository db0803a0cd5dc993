"""Console uploads kept in the database (store/console_uploads.py through web/uploads.py), on
every backend: a file comes back byte for byte however it is read, is unseen until finished and
by other units, leaves no rows when refused or failed, is swept after a day; the import's
report and rejected rows replace the file; working folders do not outlive their request."""

from __future__ import annotations

import asyncio
import io
import tempfile
import tracemalloc

import pytest
from sqlalchemy import func, select
from starlette.datastructures import UploadFile

from proactive_sms.interfaces.web import uploads
from proactive_sms.services import administration
from proactive_sms.store import console_uploads
from proactive_sms.store.console_uploads import CHUNK_BYTES, FILE, REJECTED
from proactive_sms.store.errors import NotFound
from proactive_sms.store.schema import console_upload, console_upload_chunk


def _file(data: bytes) -> UploadFile:
    """An uploaded file as Starlette hands it over (spooled to a temp file past 1 MB)."""
    spooled = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (the UploadFile owns it)
    spooled.write(data)
    spooled.seek(0)
    return UploadFile(spooled, filename="people.csv")


def _receive(engine, bu, data: bytes, clock) -> tuple[int, str, int]:
    return asyncio.run(uploads.receive(engine, bu.id, _file(data), {"file_name": "people.csv"},
                                       clock.now()))


def _rows(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(console_upload)).scalar_one(),
                conn.execute(select(func.count()).select_from(console_upload_chunk))
                .scalar_one())


def _bytes(n: int) -> bytes:
    return bytes(range(256)) * (n // 256) + bytes(n % 256)


def test_a_file_of_several_chunks_comes_back_whole_once_finished_and_only_to_its_unit(
        engine, bu, clock, tmp_path):
    data = _bytes(2 * CHUNK_BYTES + 12_345)
    upload_id, token, size = _receive(engine, bu, data, clock)
    assert size == len(data)
    with engine.connect() as conn:
        assert console_uploads.chunk_count(conn, upload_id, FILE) == 3
    with pytest.raises(NotFound):  # still receiving: unseen
        uploads.find(engine, bu.id, token)
    uploads.finish(engine, upload_id, size, {"file_name": "people.csv", "codec": "utf-8"})

    found = uploads.find(engine, bu.id, token)
    assert (found.state, found.file_bytes, found.details["codec"]) == ("ready", len(data),
                                                                        "utf-8")
    other = administration.init(engine, clock, "acme", "support", "US")
    for unit_id, asked in ((other.id, token), (bu.id, "x" * 24), (bu.id, "../../etc")):
        with pytest.raises(NotFound):
            uploads.find(engine, unit_id, asked)

    with uploads.open_file(engine, upload_id) as raw:  # read across chunk borders, and rewound
        assert raw.read(CHUNK_BYTES - 3) == data[:CHUNK_BYTES - 3]
        assert raw.read(10) == data[CHUNK_BYTES - 3:CHUNK_BYTES + 7]
        raw.seek(0)
        assert raw.read() == data
        raw.seek(2 * CHUNK_BYTES + 5)
        assert raw.read(3) == data[2 * CHUNK_BYTES + 5:2 * CHUNK_BYTES + 8]
    uploads.copy_out(engine, upload_id, tmp_path / "copy.csv")
    assert (tmp_path / "copy.csv").read_bytes() == data


def test_an_upload_over_the_limit_or_failing_midway_leaves_no_rows(engine, bu, clock,
                                                                   monkeypatch):
    monkeypatch.setenv("PSMS_CONSOLE_UPLOAD_MAX_MB", "2")
    with pytest.raises(uploads.UploadTooLarge, match="upload limit of 2 MB"):
        _receive(engine, bu, _bytes(2 * CHUNK_BYTES + 1), clock)
    assert _rows(engine) == (0, 0)

    class Broken(io.RawIOBase):  # a client gone after a chunk and a half
        sent = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            if self.sent >= CHUNK_BYTES * 3 // 2:
                raise ConnectionResetError("the client went away")
            buffer[:len(buffer)] = b"x" * len(buffer)
            self.sent += len(buffer)
            return len(buffer)

    with pytest.raises(ConnectionResetError):
        asyncio.run(uploads.receive(engine, bu.id, UploadFile(io.BufferedReader(Broken())),
                                    {}, clock.now()))
    assert _rows(engine) == (0, 0)


def test_a_large_upload_is_streamed_not_held_in_memory(engine, bu, clock):
    data = _bytes(16 * CHUNK_BYTES)
    file = _file(data)
    del data
    tracemalloc.start()
    try:
        asyncio.run(uploads.receive(engine, bu.id, file, {}, clock.now()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 * CHUNK_BYTES, peak  # a few chunks at a time, never the 16


def test_the_report_replaces_the_file_and_a_retry_does_not_double_the_rejected_rows(
        engine, bu, clock, tmp_path):
    upload_id, token, size = _receive(engine, bu, b"Phone\n+15551234567\n", clock)
    uploads.finish(engine, upload_id, size, {"file_name": "people.csv"})
    rejected = tmp_path / "rejected.csv"
    rejected.write_bytes(_bytes(CHUNK_BYTES + 7))
    uploads.keep_report(engine, upload_id, {"accepted": 1}, rejected)
    uploads.keep_report(engine, upload_id, {"accepted": 1}, rejected)  # a second attempt

    found = uploads.find(engine, bu.id, token)
    assert (found.state, found.report) == ("imported", {"accepted": 1})
    assert b"".join(uploads.chunks(engine, upload_id, REJECTED)) == rejected.read_bytes()
    assert list(uploads.chunks(engine, upload_id, FILE)) == []  # the file is gone


def test_uploads_older_than_a_day_are_swept_with_their_chunks(engine, bu, clock):
    old_id, old_token, _ = _receive(engine, bu, _bytes(CHUNK_BYTES + 1), clock)
    uploads.finish(engine, old_id, CHUNK_BYTES + 1, {})
    _receive(engine, bu, b"left receiving by a crash", clock)
    clock.advance(23 * 3600)
    new_id, new_token, _ = _receive(engine, bu, b"Phone\n", clock)  # sweeps: nothing old yet
    uploads.finish(engine, new_id, 6, {})
    assert _rows(engine)[0] == 3
    clock.advance(2 * 3600)
    uploads.sweep(engine, clock.now())
    assert _rows(engine) == (1, 1)
    with pytest.raises(NotFound):
        uploads.find(engine, bu.id, old_token)
    assert uploads.find(engine, bu.id, new_token).id == new_id


def test_a_working_folder_is_removed_when_its_request_ends_even_by_an_error(
        tmp_path, monkeypatch):
    monkeypatch.setenv("PSMS_CONSOLE_UPLOAD_DIR", str(tmp_path / "work"))
    with pytest.raises(RuntimeError), uploads.working_folder() as folder:
        (folder / "upload.csv").write_bytes(b"x")
        assert folder.parent == tmp_path / "work"
        raise RuntimeError("the import failed")
    assert list((tmp_path / "work").iterdir()) == []


def test_one_request_at_a_time_imports_an_upload_and_a_failed_import_gives_it_back(
        engine, bu, clock):
    upload_id, token, size = _receive(engine, bu, b"Phone\n+15551234567\n", clock)
    assert not uploads.claim(engine, upload_id)  # receiving: nothing to import yet
    uploads.finish(engine, upload_id, size, {})
    assert uploads.claim(engine, upload_id)
    assert not uploads.claim(engine, upload_id)  # a second click, on any server
    assert uploads.find(engine, bu.id, token).state == "importing"
    uploads.release(engine, upload_id)  # the import was refused
    assert uploads.find(engine, bu.id, token).state == "ready"
    assert uploads.claim(engine, upload_id)

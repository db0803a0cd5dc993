"""Two API servers (`psms serve --no-dispatch`) on one PostgreSQL database, each with a disk of
its own, share nothing but the database: a console session made on one works on the other, and
a calling list uploaded on one is mapped and imported on the other and reported back on the
first (issue 15). PostgreSQL only, as such deployments are."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration, console_users
from proactive_sms.store.engine import open_engine
from tests.conftest import POSTGRES_URL, _postgres_database
from tests.factories import us_number
from tests.interfaces.test_serve_processes import _sign_in
from tests.processes import PSMS, free_port, healthy, wait_until

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PSMS_TEST_POSTGRES_URL is not set")


@pytest.fixture
def servers(tmp_path) -> Iterator[tuple[str, str, str, dict[str, Path]]]:
    """Servers A and B over one fresh database: their URLs, a supervisor's password, and each
    server's own upload and temp folders."""
    for url in _postgres_database():
        engine = open_engine(url)
        bu = administration.init(engine, SystemClock(), "acme", "sales", "US")
        password = console_users.generate_password()
        console_users.create(engine, bu, SystemClock(), "sam", "supervisor", password)
        engine.dispose()
        processes, urls, disks = [], [], {}
        try:
            for name in ("a", "b"):
                disks[name] = tmp_path / name
                for folder in ("uploads", "tmp"):
                    (disks[name] / folder).mkdir(parents=True)
                port = free_port()
                log = (tmp_path / f"serve-{name}.log").open("w")
                processes.append(subprocess.Popen(
                    [*PSMS, "serve", "--port", str(port), "--workers", "1", "--no-dispatch"],
                    env={**os.environ, "PSMS_DATABASE_URL": url,
                         "PSMS_CONSOLE_UPLOAD_DIR": str(disks[name] / "uploads"),
                         "TMPDIR": str(disks[name] / "tmp")},
                    stdout=log, stderr=subprocess.STDOUT))
                urls.append(f"http://127.0.0.1:{port}")
            for address in urls:
                wait_until(lambda address=address: healthy(address), 60, f"the server at {address}")
            yield urls[0], urls[1], password, disks
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _people() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["ExternalId", "FirstName", "Mobile"])
    writer.writerows([[f"K{i}", f"Nia{i}", us_number(900 + i)] for i in range(5)])
    writer.writerow(["K9", "Bad", "12"])  # line 7: no phone number
    return out.getvalue().encode()


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)


def _files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_a_list_uploaded_on_one_server_is_imported_on_another_and_reported_on_the_first(
        servers):
    a, b, password, disks = servers
    with httpx.Client(base_url=a) as at_a:
        assert _sign_in(at_a, "sam", password).status_code in (302, 303)
        session = at_a.cookies["psms_session"]
    cookies = {"psms_session": session}
    with httpx.Client(base_url=a, cookies=cookies) as at_a:
        token = _csrf(at_a.get("/calling-lists"))
        uploaded = at_a.post("/calling-lists/uploads", data={
            "list_name": "customers", "csrf_token": token},
            files={"file": ("people.csv", _people(), "text/csv")})
        assert uploaded.status_code == 303, uploaded.text
        mapping = uploaded.headers["location"]
        assert re.fullmatch(r"/calling-lists/uploads/[A-Za-z0-9_-]{20,40}", mapping)
    assert _files_under(disks["a"]) == []  # nothing of it waits on A's disk

    with httpx.Client(base_url=b, cookies=cookies) as at_b:  # A's session works on B
        page = at_b.get(mapping)
        assert page.status_code == 200, page.text
        assert re.search(r"Map the columns of <[^>]+>people.csv<", page.text)
        preview = at_b.post(mapping + "/preview", data={"csrf_token": _csrf(page)})
        assert preview.status_code == 200 and "Nia3" in preview.text
        imported = at_b.post(mapping + "/import", data={"csrf_token": _csrf(page)})
        assert imported.status_code == 303, imported.text
        report = imported.headers["location"]
        assert report == mapping.replace("/uploads/", "/imports/")
        assert at_b.get(mapping).status_code == 404  # imported: no second import
    with httpx.Client(base_url=a, cookies=cookies) as at_a:
        again = at_a.post(mapping + "/import", data={"csrf_token": _csrf(page)})
        assert again.status_code == 404  # nor on the other server
    assert _files_under(disks["b"]) == []  # B's working copy went with its request

    with httpx.Client(base_url=a, cookies=cookies) as at_a:
        page = at_a.get(report)
        assert page.status_code == 200, page.text
        assert re.search(r'id="accepted"[^>]*>\s*5\s*<', page.text)
        assert re.search(r'id="rejected"[^>]*>\s*1\s*<', page.text)
        rejected = at_a.get(report + "/rejected.csv")
        assert rejected.status_code == 200
        rows = list(csv.reader(io.StringIO(rejected.text)))
        assert rows[0][:4] == ["line", "field", "problem", "reason"]
        assert [(row[0], row[2]) for row in rows[1:]] == [("7", "bad_number")]
        lists = at_a.get("/calling-lists")
        assert re.search(r"customers.*?5", lists.text, re.S)

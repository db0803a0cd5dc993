"""A large upload and its launch through the API, where the server's threads are running: the
import and the launch use their worker process (forked from a request thread for the import,
a fresh interpreter for the launch), give the same counts as ever, and leave no process
behind."""

from __future__ import annotations

import os

from proactive_sms.services import importing, launching, offload
from tests.factories import person
from tests.interfaces.api.conftest import csv_bytes, upload


def _children() -> set[int]:
    """This process's child processes (whichever thread started them): those whose parent is
    this process. Read from every process's stat, not from each thread's children file: a
    thread that ends while they are read (a launch's or an import's writer thread) took its
    file with it."""
    found: set[int] = set()
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:  # that process ended meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:
            found.add(int(entry))
    return found


def test_a_large_upload_and_launch_run_in_workers_and_leave_nothing_running(
        client, key_a, monkeypatch):
    monkeypatch.setattr(importing, "PARALLEL_MIN_BYTES", 1)  # "large" from the first byte
    monkeypatch.setattr(launching, "PARALLEL_MIN_RECORDS", 1)
    started: list[str] = []
    real_offload = offload.Offload

    def counting_offload(work, name="psms-offload", start="fork"):
        started.append(start)
        return real_offload(work, name=name, start=start)

    monkeypatch.setattr(offload, "Offload", counting_offload)
    before = _children()
    rows = [person(i, IsCellPhone="false" if i % 10 == 0 else "true") for i in range(12_000)]
    rows += [person(20_000, PhoneNumber="12")]  # one bad row
    report = upload(client, key_a, "people", csv_bytes(rows)).json()
    assert (report["accepted"], report["rejected"]) == (12_000, 1)
    assert report["rejected_rows"][0]["line"] == 12_002
    assert client.post("/v1/registrations", headers=key_a, json={
        "code": "55501", "kind": "short", "throughput_per_s": 100}).status_code == 201
    assert client.post("/v1/skills", headers=key_a, json={
        "name": "notice", "registration": "55501",
        "calling_list": "people"}).status_code == 201
    started_skill = client.post("/v1/skills/notice/start", headers=key_a,
                                json={"message": "Hi {FirstName}, your order is ready."})
    assert started_skill.status_code == 200, started_skill.text
    progress = client.get("/v1/skills/notice/progress", headers=key_a).json()
    assert progress["pending"] == 10_800 and progress["skipped"] == 1_200
    assert started == ["fork", "fresh"]
    assert _children() <= before  # the workers have ended

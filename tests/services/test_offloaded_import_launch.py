"""Import and launch with their per-row work in a worker process give exactly what the serial
path gives: the same records, messages, errors and summaries, table by table."""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from proactive_sms.services import administration, importing, launching, offload
from proactive_sms.store.schema import calling_record, message
from tests.factories import registration, skill, us_number

pytestmark = pytest.mark.skipif(not offload.available(), reason="needs fork")

HEADER = ["ExternalId", "FirstName", "LastName", "PhoneNumber", "IsCellPhone", "Note",
          "ExpirationDate", "Balance"]
UNUSUAL_NAMES = ["Zoë", "Łukasz", "José", "O'Brien", "Ann, Jr.", 'Jo "JJ"', "محمد", "李"]


def _varied_rows(count: int) -> list[list[str]]:
    """Rows of every kind an import meets, in an order that puts odd ones across chunks."""
    rng = random.Random(11)
    rows = []
    for i in range(count):
        first = rng.choice(UNUSUAL_NAMES) if rng.random() < 0.2 else f"Ann{i}"
        number = us_number(rng.randrange(count // 2))  # many numbers come twice
        if rng.random() < 0.2:
            number = f"({number[:3]}) {number[3:6]}-{number[6:]}"
        row = [f"C{i:06d}", first, "Lee", number, rng.choice(["true", "false", "yes", "1"]),
               "", "", f"${rng.randint(1, 99999) / 100:,.2f}"]
        kind = rng.random()
        if kind < 0.05:
            row[5] = "two\nlines, and a \"quote\""  # a quoted field spanning lines
        elif kind < 0.07:
            row[5] = "x" * 400  # a text over the skill's segment limit
        elif kind < 0.09:
            row[0] = f"C{rng.randrange(max(i, 1)):06d}"  # an ExternalId seen before
        elif kind < 0.10:
            row[3] = "555-0100"  # too short
        elif kind < 0.11:
            row[4] = "maybe"
        elif kind < 0.12:
            row = row[:5]  # too few columns
        elif kind < 0.13:
            row[1] = ""  # FirstName empty: missing_field at launch
        elif kind < 0.14:
            row[6] = rng.choice(["2020-01-01", "2099-12-31", "31/31/2020"])  # expired, not, bad
        elif kind < 0.15:
            row[0] = ""  # no ExternalId
        rows.append(row)
    return rows


def _write(path, rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i, row in enumerate(rows):
            writer.writerow(row)
            if i % 250 == 100:
                handle.write("\n")  # a blank line now and then
    with path.open("ab") as handle:
        handle.write(b'C999999,"unclosed,Lee,2125550124,true,,,\n')  # malformed to the end


def _records(engine, list_id):
    columns = [c for c in calling_record.c if c.name not in ("id", "calling_list_id")]
    with engine.connect() as conn:
        return conn.execute(select(*columns).where(calling_record.c.calling_list_id == list_id)
                            .order_by(calling_record.c.id)).all()


def _list_id(engine, bu, name):
    from proactive_sms.store import calling_lists

    with engine.connect() as conn:
        return calling_lists.find_list(conn, bu.id, name).id


def _summary(summary):
    return (summary.rows_read, summary.accepted, summary.rejected,
            dict(summary.rejected_by_problem), summary.errors, summary.records_in_list,
            summary.columns)


def test_import_in_a_worker_gives_what_the_serial_import_gives(engine, bu, clock, tmp_path):
    path = tmp_path / "varied.csv"
    _write(path, _varied_rows(3000))
    outcomes = {}
    for workers in (0, 1):
        name = f"people-{workers}"
        errors = tmp_path / f"errors-{workers}.csv"
        first = importing.import_calling_list(engine, bu, name, path, clock, errors_path=errors,
                                              batch_size=97, workers=workers)
        records = _records(engine, _list_id(engine, bu, name))
        again = importing.import_calling_list(engine, bu, name, path, clock, batch_size=101,
                                              workers=workers)  # re-import: updates
        outcomes[workers] = (_summary(first), errors.read_text(), records, _summary(again),
                             _records(engine, _list_id(engine, bu, name)))
    serial, offloaded = outcomes[0], outcomes[1]
    assert serial[0][2] > 150  # rejected rows of every kind, including duplicate ExternalIds
    assert len(serial[0][3]) == 6
    assert serial[2] == serial[4]  # the re-import updated, and doubled nothing
    for part in range(5):
        assert offloaded[part] == serial[part], part


def _messages(engine, skill_id):
    columns = [c for c in message.c if c.name not in ("id", "skill_id")]
    with engine.connect() as conn:
        return conn.execute(select(*columns).where(message.c.skill_id == skill_id)
                            .order_by(message.c.id)).all()


@pytest.mark.parametrize("text", [
    "Hi {FirstName}, your balance of {Balance} is due. {Note}",
    "مرحبا {FirstName}، رصيدك {Balance}",  # right-to-left, with isolates
    "Same words for everyone",  # no variables: no worker at all
])
def test_launch_in_a_worker_decides_what_the_serial_launch_decides(engine, bu, clock,
                                                                 tmp_path, text):
    path = tmp_path / "varied.csv"
    _write(path, _varied_rows(2500))
    importing.import_calling_list(engine, bu, "people", path, clock, workers=0)
    registration(engine, bu, clock)
    administration.dnc_add(engine, bu, clock, [us_number(i) for i in range(0, 1250, 37)])
    results = {}
    for workers in (0, 1):
        created = skill(engine, bu, clock, name=f"notice-{workers}", max_segments=2)
        summary = launching.start_skill(engine, created.id, clock, message_text=text,
                                        batch_size=128, workers=workers)
        results[workers] = (summary.pending, dict(summary.skipped), summary.decided_now,
                            _messages(engine, created.id))
    assert results[1] == results[0]
    pending, skipped, decided, _ = results[0]
    assert decided == len(_records(engine, _list_id(engine, bu, "people")))  # each record once
    assert pending and skipped.get("dnc") and skipped.get("duplicate_destination")


def test_a_launch_interrupted_with_its_worker_resumes_to_the_same_decisions(engine, bu, clock,
                                                                           tmp_path):
    path = tmp_path / "varied.csv"
    _write(path, _varied_rows(1500))
    importing.import_calling_list(engine, bu, "people", path, clock, workers=0)
    registration(engine, bu, clock)
    text = "Hi {FirstName}, {Balance}"
    serial = skill(engine, bu, clock, name="serial")
    launching.start_skill(engine, serial.id, clock, message_text=text, batch_size=100,
                          workers=0)
    resumed = skill(engine, bu, clock, name="resumed")

    def crash(decided: int) -> None:
        if decided >= 300:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        launching.start_skill(engine, resumed.id, clock, message_text=text, batch_size=100,
                              workers=1, after_batch=crash)
    launching.start_skill(engine, resumed.id, clock, batch_size=100, workers=1)
    assert _messages(engine, resumed.id) == _messages(engine, serial.id)


# --- the worker itself -----------------------------------------------------------------------

def _square_or_die(task: tuple[int, int]) -> int:
    n, parent = task
    if n == 3 and os.getpid() != parent:
        os._exit(1)  # the worker dies on this task (in this process it just works)
    if n == 5:
        raise ValueError("five")
    return n * n


@pytest.mark.parametrize("start", ["fork", "fresh"])
def test_results_come_in_order_and_a_lost_worker_costs_nothing(start):
    with offload.Offload(_square_or_die, start=start) as work:
        results = []
        for n in (1, 2, 3, 4):
            work.submit((n, os.getpid()))
            if work.in_flight >= 2:
                results.append(work.result())
        while work.in_flight:
            results.append(work.result())
        assert not work.alive  # lost at task 3: the rest ran here
    assert results == [1, 4, 9, 16]


@pytest.mark.parametrize("start", ["fork", "fresh"])
def test_an_error_in_the_worker_is_raised_here(start):
    with offload.Offload(_square_or_die, start=start) as work:
        work.submit((4, os.getpid()))
        work.submit((5, os.getpid()))
        assert work.result() == 16
        with pytest.raises(ValueError, match="five"):
            work.result()
        assert work.alive  # the worker goes on


def test_workers_do_not_outlive_a_killed_parent(tmp_path):
    script = (
        "import sys, time\n"
        "from proactive_sms.services import offload\n"
        "a = offload.Offload(abs)\n"
        "b = offload.Offload(abs, start='fresh')\n"
        "a.submit(-1); b.submit(-2); a.result(); b.result()\n"
        "print(a.pid, b.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert all(_running(pid) for pid in pids)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(pid) for pid in pids)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False

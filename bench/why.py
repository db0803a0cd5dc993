"""What `psms why NUMBER` costs to answer, in a unit with a large list (issue 19).

    .venv/bin/python bench/why.py [--records 200000] [--lookups 30]

A fresh SQLite file: one list of `--records` people, two launched skills (so 2 x records
decisions in `message`, all pending: the worst case for finding a number's texts, which are not
in the partial index of submitted texts). Then `--lookups` numbers' histories are read through the
service, and, as the floor of the same run, one message read by its primary key. Prints the
median and the slowest, in milliseconds. Figures, not a test; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from tests.factories import launched_skill, us_number  # noqa: E402

from proactive_sms.domain.clock import SystemClock  # noqa: E402
from proactive_sms.domain.number_visibility import Reader  # noqa: E402
from proactive_sms.services import administration, launching, number_history  # noqa: E402
from proactive_sms.store.engine import open_engine  # noqa: E402
from proactive_sms.store.schema import message  # noqa: E402


def timed_ms(run) -> float:
    started = time.perf_counter()
    run()
    return 1000 * (time.perf_counter() - started)


def main(records: int, lookups: int, index_sql: list[str]) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="psms-why-"))
    engine = open_engine(f"sqlite:///{workdir / 'psms.db'}")
    clock = SystemClock()
    bu = administration.init(engine, clock, "bench", "bench", "US")
    started = time.perf_counter()
    launched_skill(engine, bu, clock, workdir, records)  # imports 'people', skill 'notice'
    skill = administration.create_skill(engine, bu, clock, name="second", registration="55501",
                                        calling_list="people")
    launching.start_skill(engine, skill.id, clock, message_text="Second {FirstName}")
    if index_sql:
        with engine.begin() as conn:
            for statement in index_sql:
                conn.exec_driver_sql(statement)
    print(f"set-up: {records:,} records, {2 * records:,} decisions in "
          f"{time.perf_counter() - started:.1f} s")
    step = max(1, records // lookups)
    numbers = [us_number(i) for i in range(0, records, step)][:lookups]
    events = []
    histories = []
    for n in numbers:
        took = timed_ms(lambda n=n: events.append(
            len(number_history.number_history(engine, bu, n, Reader.API_KEY).events)))
        histories.append(took)
    floor = []
    with engine.connect() as conn:
        for i in range(1, lookups + 1):
            floor.append(timed_ms(lambda i=i: conn.execute(
                select(message).where(message.c.id == i)).first()))
    print(f"history of a number ({statistics.median(events):.0f} events): median "
          f"{statistics.median(histories):.1f} ms, slowest {max(histories):.1f} ms")
    print(f"floor, one message by id: median {statistics.median(floor):.3f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--lookups", type=int, default=30)
    parser.add_argument("--sql", action="append", default=[],
                        help="A statement to run before the lookups (e.g. CREATE INDEX ...).")
    options = parser.parse_args()
    main(options.records, options.lookups, options.sql)

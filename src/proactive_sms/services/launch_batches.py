"""How many records a launch (or an import) writes in its next transaction.

A launch's transaction holds SQLite's one write lock from its first read to its commit, and the
dispatcher sends a launching skill's committed texts meanwhile: its look at the new skill and
its first claim wait for the launch transaction in progress. Large batches cost least per
record (measured at 100,000 records: 4,000 a batch takes 4% more CPU than 20,000, 2,000 takes
10% more), but a 20,000-record batch holds the lock for 0.3-1 s, and the first text would wait
for two of them.

So during the first seconds, when a dispatcher is about to look and claim the first texts, each
batch is sized to hold the lock about `SHORT_HOLD_S`; after that batches grow x4 up to the
largest size. With `calm_s` > 0 they also stay short for that long after a writer was found
waiting: an import uses it (a dispatcher sending other skills meanwhile should not wait for
50,000-row transactions); a launch does not, because the dispatcher writes several times a
second while it sends that very launch's texts, so every batch stayed short and the launch took
13% longer at 100,000 and 1,000,000 records (docs/benchmarks.md). PostgreSQL's writers do not
queue on one lock: there the batches only grow.
"""

from __future__ import annotations

FIRST_BATCH = 1_000  # the first texts are written within ~0.1 s whatever the list's size
GROWTH = 4  # each batch at most this many times the last
SHORT_HOLD_S = 0.1  # the lock time aimed at while others may wait
FIRST_SECONDS_S = 2.0  # a dispatcher looks and claims within this of the first batch
CALM_S = 2.0  # an import's batches stay short this long after a writer was last found waiting


class BatchSizes:
    """The size of each next batch, from how long the last one held the lock and whether a
    writer was waiting when it committed. Times are the caller's monotonic seconds."""

    def __init__(self, largest: int, started_at: float, *, one_write_lock: bool,
                 first: int = FIRST_BATCH, calm_s: float = 0.0) -> None:
        self.largest = largest
        self.first = min(first, largest)
        self.one_write_lock = one_write_lock
        self.calm_s = calm_s
        self.short_until = started_at + FIRST_SECONDS_S if one_write_lock else started_at
        self.size = self.first

    def after(self, rows: int, hold_s: float, writers_waited: bool, now: float) -> int:
        """The next batch's size, after a batch of `rows` records that held the lock `hold_s`
        seconds; `writers_waited`: others were waiting for the lock when it committed."""
        if writers_waited and self.one_write_lock and self.calm_s > 0:
            self.short_until = max(self.short_until, now + self.calm_s)
        grown = min(max(rows, 1) * GROWTH, self.largest)
        if now < self.short_until and hold_s > 0:
            fits = int(rows * SHORT_HOLD_S / hold_s)
            self.size = max(min(fits, grown), min(self.first, grown))
        else:
            self.size = grown
        return self.size

    def likely_next(self, now: float) -> int:
        """What the batch after the current one will likely take (what to read ahead and
        prepare while this one is written): as much again while batches are kept short,
        else grown."""
        if now < self.short_until:
            return self.size
        return min(self.size * GROWTH, self.largest)

"""services.launch_batches: batches grow to the largest size, but stay short (about SHORT_HOLD_S
of SQLite's write lock) in the first seconds, so that a dispatcher's look and first claim wait
for a short batch, not a large one; an import's also stay short while other writers wait."""

from __future__ import annotations

from proactive_sms.services.launch_batches import (
    CALM_S,
    FIRST_BATCH,
    FIRST_SECONDS_S,
    GROWTH,
    SHORT_HOLD_S,
    BatchSizes,
)

LARGEST = 20_000


def test_without_anyone_waiting_batches_grow_to_the_largest_after_the_first_seconds():
    sizes = BatchSizes(LARGEST, 0.0, one_write_lock=True)
    assert sizes.size == FIRST_BATCH
    later = FIRST_SECONDS_S + 1.0
    assert sizes.after(1_000, 0.05, False, later) == 1_000 * GROWTH
    assert sizes.after(4_000, 0.2, False, later + 0.2) == 16_000
    assert sizes.after(16_000, 0.8, False, later + 1.0) == LARGEST
    assert sizes.after(LARGEST, 1.0, False, later + 2.0) == LARGEST


def test_in_the_first_seconds_a_batch_holds_the_lock_about_the_short_time():
    sizes = BatchSizes(LARGEST, 100.0, one_write_lock=True)
    # 1,000 records held the lock 25 ms: 4,000 fit in 100 ms (and growth allows 4,000)
    assert sizes.after(1_000, 0.025, False, 100.1) == 4_000
    # 4,000 held it 200 ms: 2,000 fit
    assert sizes.after(4_000, 0.2, False, 100.3) == int(4_000 * SHORT_HOLD_S / 0.2)
    # however slow, never below the first batch's size
    assert sizes.after(2_000, 5.0, False, 100.5) == FIRST_BATCH
    # fast: no more than growth allows at once
    assert sizes.after(1_000, 0.001, False, 100.6) == 4_000


def test_an_import_keeps_batches_short_while_writers_wait_and_a_while_after():
    sizes = BatchSizes(LARGEST, 0.0, one_write_lock=True, calm_s=CALM_S)
    now = FIRST_SECONDS_S + 10.0
    assert sizes.after(16_000, 0.8, False, now) == LARGEST
    # a dispatcher waited for the 20,000-record batch (1 s of lock): the next is ~100 ms
    assert sizes.after(LARGEST, 1.0, True, now + 1.0) == int(LARGEST * SHORT_HOLD_S / 1.0)
    assert sizes.likely_next(now + 1.1) == sizes.size  # read ahead as much again
    assert sizes.after(2_000, 0.1, False, now + 1.0 + CALM_S / 2) == 2_000
    calm = now + 1.0 + CALM_S + 0.01
    assert sizes.likely_next(calm) == 2_000 * GROWTH
    assert sizes.after(2_000, 0.1, False, calm) == 2_000 * GROWTH


def test_without_one_write_lock_batches_only_grow():
    sizes = BatchSizes(LARGEST, 0.0, one_write_lock=False)  # PostgreSQL
    assert sizes.after(1_000, 0.5, True, 0.1) == 4_000
    assert sizes.after(4_000, 2.0, True, 0.2) == 16_000


def test_a_small_largest_size_bounds_the_first_batch_too():
    sizes = BatchSizes(100, 0.0, one_write_lock=True)
    assert sizes.size == 100
    assert sizes.after(100, 0.001, False, 0.1) == 100


def test_a_launch_keeps_growing_when_writers_wait_after_its_first_seconds():
    # the dispatcher writes several times a second while it sends the launch's own texts:
    # short batches then would slow the whole launch (13% measured)
    sizes = BatchSizes(LARGEST, 0.0, one_write_lock=True)
    now = FIRST_SECONDS_S + 1.0
    assert sizes.after(4_000, 0.2, True, now) == 16_000
    assert sizes.after(16_000, 0.8, True, now + 1.0) == LARGEST

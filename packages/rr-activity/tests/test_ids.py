"""Entry ids are UUIDv7, strictly increasing, so entries of one instant keep their order."""

from __future__ import annotations

import threading
import time
import uuid

from rr_activity.state import TimeOrderedIds


def test_ids_are_version_7_and_increase_within_one_generator() -> None:
    ids = TimeOrderedIds()
    made = [ids() for _ in range(5000)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in made)
    assert made == sorted(made) and len(set(made)) == len(made)
    assert [str(i) for i in made] == sorted(str(i) for i in made)


def test_ids_carry_the_time() -> None:
    before = time.time_ns() // 1_000_000
    made = TimeOrderedIds()()
    after = time.time_ns() // 1_000_000
    assert before <= made.int >> 80 <= after


def test_ids_stay_unique_across_threads() -> None:
    ids = TimeOrderedIds()
    made: list[list[uuid.UUID]] = [[] for _ in range(8)]

    def work(n: int) -> None:
        made[n].extend(ids() for _ in range(2000))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for batch in made for i in batch]
    assert len(set(every)) == len(every)
    assert all(batch == sorted(batch) for batch in made)

"""A separate process that updates records with the activity log on (concurrency tests).

``python activity_worker.py URL MODELS_JSON WORKER ROUNDS KEY...``: builds its own
instance on URL, then ROUNDS times updates each record KEY with a value only this worker
and round write, and prints how many updates committed, per key, as JSON.
"""

from __future__ import annotations

import json
import sys

from reactive_record import ReactiveRecord


def main(url: str, models: str, worker: int, rounds: int, keys: list[int]) -> dict[str, int]:
    """Run the updates; committed updates per key."""
    committed = dict.fromkeys(map(str, keys), 0)
    user = {"id": f"process-{worker}"}
    with ReactiveRecord(
        database=url, models=json.loads(models), plugins=["sqlalchemy", "activity"]
    ) as rr:
        for round_ in range(rounds):
            for key in keys:
                rr.models.Job.update(key, {"counter": worker * 1000 + round_}, user=user)
                committed[str(key)] += 1
    return committed


if __name__ == "__main__":
    url, models, worker, rounds, *keys = sys.argv[1:]
    print(json.dumps(main(url, models, int(worker), int(rounds), [int(k) for k in keys])))

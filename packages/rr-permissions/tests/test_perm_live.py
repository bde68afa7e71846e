"""Live queries of a user's scoped read stay exact as records move into and out of reach."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from reactive_record import SYSTEM, ReactiveRecord

from .conftest import ALICE, STANDARD, TENANT_READ, TOM, seed

Build = Callable[..., ReactiveRecord]


def ids(rr: ReactiveRecord, query: Any) -> list[int]:
    return [job.id for job in query.all()]


@pytest.mark.parametrize(
    "read",
    [TENANT_READ, {"all": [TENANT_READ, {"type": "custom", "function": "policies:even_priority"}]}],
    ids=["data-rule", "python-rule"],
)
def test_records_moving_in_and_out_of_reach(
    build: Build, policies_on_path: str, read: dict[str, Any]
) -> None:
    rr = build({**STANDARD, "read": read})
    seed(rr)
    query = rr.models.Job.with_permissions(ALICE).order("id")
    seen: list[list[int]] = []
    unsubscribe = query.subscribe(lambda snapshot: seen.append([j.id for j in snapshot.data]))
    try:
        outsider = rr.models.Job.unscoped().where(client_id=2, priority=[2, 4]).first()
        insider = rr.models.Job.unscoped().where(client_id=1, priority=[2, 4]).first()
        assert outsider is not None and insider is not None
        assert outsider.id not in seen[-1] and insider.id in seen[-1]
        rr.models.Job.update(outsider.id, {"client_id": 1}, user=SYSTEM)
        assert outsider.id in seen[-1]
        rr.models.Job.update(insider.id, {"client_id": 3}, user=SYSTEM)
        assert insider.id not in seen[-1]
        assert seen[-1] == ids(rr, query)
    finally:
        unsubscribe()


def test_live_aggregates_are_scoped(build: Build) -> None:
    rr = build(STANDARD)
    seed(rr)
    count = rr.models.Job.with_permissions(ALICE).aggregate("count")
    before = count.data
    assert before == rr.models.Job.unscoped().where(client_id=1).count()
    rr.models.Job.create({"title": "elsewhere", "client_id": 2}, user=SYSTEM)
    rr.models.Job.create({"title": "here", "client_id": 1}, user=SYSTEM)
    assert count.data == before + 1


def test_includes_of_a_list_for_another_action_are_read(build: Build) -> None:
    rr = build(STANDARD, task_section={"read": True})
    seed(rr)
    jobs = rr.models.Job.with_permissions(ALICE, "update").includes("tasks").all()
    assert jobs and all(len(job.tasks) == 2 for job in jobs)


def test_hidden_fields_stay_hidden_in_live_updates(build: Build) -> None:
    rr = build({**STANDARD, "hidden_fields": {"technician": ["secret_note"]}})
    seed(rr)
    seen: list[Any] = []
    unsubscribe = rr.models.Job.with_permissions(TOM).subscribe(seen.append)
    try:
        job = rr.models.Job.create(
            {"title": "new", "client_id": 1, "secret_note": "psst"}, user=SYSTEM
        )
        rr.models.Job.update(job.id, {"title": "renamed"}, user=SYSTEM)
        live = rr.models.Job.with_permissions(TOM).find(job.id)
        rr.models.Job.update(job.id, {"title": "again"}, user=SYSTEM)
        assert len(seen) >= 3
        for snapshot in seen:
            assert all("secret_note" not in record for record in snapshot.data)
        assert live.data is not None and live.data.title == "again"
        assert "secret_note" not in live.data
    finally:
        unsubscribe()

"""The core's steps of ``reactive-record demo``: queries, scopes, includes, validations, writes.

Each step prints the Python it runs and what came back, so the output reads as a tour
of the API. Steps run in order against the seeded field-service app and build on each
other's writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .demo import Demo, Step
from .errors import ValidationError

if TYPE_CHECKING:
    from .engine import Plan
    from .model import Model
    from .records import Record
    from .snapshots import Snapshot
    from .store import Row, Store

JOB_COLUMNS = ("id", "title", "status", "priority", "client_id", "user_id", "due_date")


def models(demo: Demo) -> None:
    """The models as configured, and the seeded rows."""
    demo.table(
        [
            {
                "model": m.name,
                "table": m.table,
                "fields": ", ".join(name for name in m.fields if name != m.primary_key),
                "associations": ", ".join(m.associations),
                "features": ", ".join(sorted(m.features)) or "-",
            }
            for m in demo.rr.model_definitions()
        ],
        max_width=None,
    )
    m = demo.rr.models
    demo.say()
    demo.show("Client.all()", m.Client.all())
    demo.show("User.all()", m.User.all(), ("id", "name", "email", "role", "client_id"))
    demo.show("Job.all()", m.Job.all(), JOB_COLUMNS)
    demo.show("Task.count()", m.Task.count())


def queries(demo: Demo) -> None:
    """``where`` with equality, operators, IN, NULL, OR, LIKE and EXISTS; bad input refused."""
    m = demo.rr.models
    today = _today(demo)
    columns = ("id", "title", "status", "priority", "user_id", "due_date")
    demo.show('Job.where(status="active")', m.Job.where(status="active").all(), columns)
    demo.show('Job.where(priority={"gte": 4})', m.Job.where(priority={"gte": 4}).all(), columns)
    demo.show(
        'Job.where(status=["pending", "active"], client_id=2)',
        m.Job.where(status=["pending", "active"], client_id=2).all(),
        columns,
    )
    demo.show("Job.where(user_id=None)   # unassigned", m.Job.where(user_id=None).all(), columns)
    demo.show(
        'Job.where({"or": [{"priority": 5}, {"due_date": {"lt": today}}]})',
        m.Job.where({"or": [{"priority": 5}, {"due_date": {"lt": today}}]}).all(),
        columns,
    )
    demo.show(
        'Job.where(title={"ilike": "%DRAIN%"})',
        m.Job.where(title={"ilike": "%DRAIN%"}).all(),
        columns,
    )
    demo.show(
        'Job.where(tasks={"any": {"status": "open"}}, client_id=1)   # EXISTS',
        m.Job.where(tasks={"any": {"status": "open"}}, client_id=1).all(),
        columns,
    )
    demo.say("Field names and operators are checked before anything runs:")
    demo.fails('Job.where(colour="red")', lambda: m.Job.where(colour="red"))
    demo.fails('Job.where(priority={"around": 3})', lambda: m.Job.where(priority={"around": 3}))
    demo.fails('Job.where(priority="high")', lambda: m.Job.where(priority="high"))
    demo.say("Values are only ever values, never SQL:")
    demo.show(
        "Job.where(title=\"x' OR '1'='1\").count()", m.Job.where(title="x' OR '1'='1").count()
    )


def scopes(demo: Demo) -> None:
    """Scopes from the configuration are query methods; parameters are checked."""
    m = demo.rr.models
    soon = _today(demo) + dt.timedelta(days=4)
    columns = ("id", "title", "status", "priority", "client_id", "due_date")
    demo.show("Job.active()", m.Job.active().all(), columns)
    demo.show("Job.by_client(2)", m.Job.by_client(2).all(), columns)
    demo.show(
        f"Job.open().due_before({soon.isoformat()!r}).by_client(1)",
        m.Job.open().due_before(soon).by_client(1).all(),
        columns,
    )
    demo.show("Job.urgent()   # a scope with its own order", m.Job.urgent().all(), columns)
    demo.show(
        'User.with_role("technician")',
        m.User.with_role("technician").all(),
        ("id", "name", "role", "client_id"),
    )
    demo.fails("Job.by_client()", lambda: m.Job.by_client())


def paging(demo: Demo) -> None:
    """``order`` (always ending with the primary key), ``limit`` and ``offset``."""
    m = demo.rr.models
    page = m.Job.order("-priority", "title").limit(4)
    demo.show('Job.order("-priority", "title").limit(4)', page.all(), JOB_COLUMNS)
    demo.show(
        'Job.order("-priority", "title").limit(4).offset(4)', page.offset(4).all(), JOB_COLUMNS
    )
    demo.show(
        'Job.order("-priority", "title").limit(4).offset(8)', page.offset(8).all(), JOB_COLUMNS
    )


def includes(demo: Demo) -> None:
    """``includes`` attaches related records with one read per association, never N+1."""
    m = demo.rr.models
    query = m.Job.open().includes("client", "user", "tasks").order("due_date")
    with counting_reads(demo) as reads:
        jobs = query.all()
    demo.show(
        'Job.open().includes("client", "user", "tasks").order("due_date")',
        jobs,
        ("id", "title", "client", "user", "tasks"),
    )
    demo.say(f"{len(jobs)} jobs with their clients, assignees and tasks in {reads[0]} reads.")
    first = jobs[0]
    demo.show("jobs[0].client.name", first.client.name)
    demo.show(
        f"jobs[0].tasks   # job {first.id}", first.tasks, ("id", "title", "status", "position")
    )


def aggregates(demo: Demo) -> None:
    """``count``, ``exists``, ``pluck``, ``first``, ``find`` and ``find_by``."""
    m = demo.rr.models
    demo.show("Job.open().count()", m.Job.open().count())
    demo.show(
        'Job.where(client_id=3, status="completed").exists()',
        m.Job.where(client_id=3, status="completed").exists(),
    )
    demo.show(
        'Job.active().order("title").pluck("title")', m.Job.active().order("title").pluck("title")
    )
    demo.show('Job.urgent().pluck("id", "priority")', m.Job.urgent().pluck("id", "priority"))
    demo.show('Job.order("due_date").first()', m.Job.order("due_date").first(), JOB_COLUMNS)
    demo.show("Job.find(1).data", m.Job.find(1).data, JOB_COLUMNS)
    demo.show(
        'Job.find_by(title="Paint stairwell").data',
        m.Job.find_by(title="Paint stairwell").data,
        JOB_COLUMNS,
    )
    demo.show('Job.find_by(title="No such job").data', m.Job.find_by(title="No such job").data)
    demo.fails("Job.find(999)", lambda: m.Job.find(999))


def validations(demo: Demo) -> None:
    """Invalid writes raise ValidationError naming each field; nothing is written."""
    m = demo.rr.models
    jobs, users = m.Job.count(), m.User.count()
    error = demo.fails(
        'Job.create({"title": "", "client_id": 1, "status": "urgent", "priority": 9})',
        lambda: m.Job.create({"title": "", "client_id": 1, "status": "urgent", "priority": 9}),
    )
    if isinstance(error, ValidationError):
        demo.table(
            [{"field": f, "messages": "; ".join(m)} for f, m in sorted(error.messages.items())],
            max_width=None,
        )
    demo.fails(
        'User.create({"name": "eve", "email": "eve at home", "role": "intern"})',
        lambda: m.User.create({"name": "eve", "email": "eve at home", "role": "intern"}),
    )
    demo.fails(
        'Job.create({"title": "Fix the gate", "client_id": "one"})',
        lambda: m.Job.create({"title": "Fix the gate", "client_id": "one"}),
    )
    demo.fails('Job.update(1, {"colour": "red"})', lambda: m.Job.update(1, {"colour": "red"}))
    _unchanged(demo, "Job.count()", jobs, m.Job.count())
    _unchanged(demo, "User.count()", users, m.User.count())


def writes(demo: Demo) -> None:
    """create, update, optimistic locking, destroy with dependents, update_all, destroy_all."""
    rr = demo.rr
    m = rr.models
    tom = demo.users["tom"]
    due = _today(demo) + dt.timedelta(days=10)
    values = {"title": "Replace cracked tiles", "client_id": 1, "due_date": due}
    job = m.Job.create(values)
    demo.show(
        f"job = Job.create({values!r})",
        job,
        (*JOB_COLUMNS, "lock_version"),
    )
    demo.say("The stored row came back: its id, and status and priority from their defaults.")
    updated = m.Job.update(job.id, {"status": "active", "user_id": tom.id})
    demo.show(
        f'Job.update(job.id, {{"status": "active", "user_id": {tom.id}}})',
        updated,
        ("id", "title", "status", "user_id", "lock_version"),
    )
    demo.say("Optimistic locking: a write based on an old lock_version is refused.")
    demo.fails(
        'Job.update(job.id, {"priority": 4, "lock_version": 0})   # a stale copy',
        lambda: m.Job.update(job.id, {"priority": 4, "lock_version": 0}),
    )
    demo.show(
        'Job.update(job.id, {"priority": 4, "lock_version": 1})   # the current copy',
        m.Job.update(job.id, {"priority": 4, "lock_version": 1}),
        ("id", "title", "priority", "lock_version"),
    )
    rewire = m.Job.where(title="Rewire server room").one()
    demo.show(f"Task.where(job_id={rewire.id}).count()", m.Task.where(job_id=rewire.id).count())
    m.Job.destroy(rewire.id)
    demo.show(f"Job.destroy({rewire.id})   # has_many tasks, dependent = destroy", None)
    demo.show(f"Task.where(job_id={rewire.id}).count()", m.Task.where(job_id=rewire.id).count())
    pending = m.Job.where(status="pending", client_id=3)
    demo.show(
        'Job.where(status="pending", client_id=3).update_all({"status": "active"})',
        pending.update_all({"status": "active"}),
    )
    demo.show(
        "Job.by_client(3)", m.Job.by_client(3).all(), ("id", "title", "status", "lock_version")
    )
    demo.show(
        'Job.where(status="cancelled").destroy_all()', m.Job.where(status="cancelled").destroy_all()
    )


def transactions(demo: Demo) -> None:
    """``rr.transaction()``: one commit; reads inside see its writes; an error rolls back."""
    rr = demo.rr
    m = rr.models
    before = m.Job.count()
    status = m.Job.where(id=1).one().status
    demo.say(f"Job.count() is {before}; job 1 is {status!r}.")
    demo.say(">>> with rr.transaction():")
    demo.say('...     Job.create({"title": "Quote for new boiler", "client_id": 1})')
    demo.say('...     Job.update(1, {"status": "completed"})')
    demo.say("...     Job.count()            # inside: sees its own writes")
    demo.say('...     raise RuntimeError("customer cancelled")')
    try:
        with rr.transaction():
            m.Job.create({"title": "Quote for new boiler", "client_id": 1})
            m.Job.update(1, {"status": "completed"})
            demo.say(f"{m.Job.count()}")
            raise RuntimeError("customer cancelled")
    except RuntimeError as exc:
        demo.say(f"RuntimeError: {exc}")
    _unchanged(demo, "Job.count()", before, m.Job.count())
    _unchanged(demo, "Job.where(id=1).one().status", status, m.Job.where(id=1).one().status)
    demo.say("update_all runs every row through the pipeline in one transaction: one bad row,")
    demo.say("nothing written.")
    priorities = m.Job.order("id").pluck("priority")
    demo.fails(
        'Job.where(client_id=1).update_all({"priority": 5, "status": "on hold"})',
        lambda: m.Job.where(client_id=1).update_all({"priority": 5, "status": "on hold"}),
    )
    _unchanged(
        demo, 'Job.order("id").pluck("priority")', priorities, m.Job.order("id").pluck("priority")
    )


def live(demo: Demo) -> None:
    """Live queries: subscribers get each committed change as a diff, once per transaction.

    Works on one client's jobs only, so the seeded data plugin steps show stays as it was.
    """
    rr = demo.rr
    m = rr.models
    client = m.Client.where(name="Globex Hospital").one().id
    board = m.Job.by_client(client).open().order("-priority").limit(2)
    heard: list[Snapshot] = []

    def show(snapshot: Snapshot) -> None:
        heard.append(snapshot)
        demo.say(f"  -> {_describe(snapshot)}")

    def write(code: str, action: Callable[[], Any], notifications: int) -> None:
        demo.say(code)
        calls = len(heard)
        action()
        if len(heard) - calls != notifications:
            raise AssertionError(f"{code}: {len(heard) - calls} notifications, not {notifications}")

    demo.say(f'>>> board = Job.by_client({client}).open().order("-priority").limit(2)')
    demo.say(">>> unsubscribe = board.subscribe(show)   # called now, then after each commit")
    unsubscribe = board.subscribe(show)
    try:
        pump = {"title": "Replace failed pump", "client_id": client, "priority": 5}
        write(f">>> Job.create({pump!r})", lambda: m.Job.create(pump), 1)
        top = board.all()[0]
        write(
            f">>> Job.update({top.id}, {{'status': 'completed'}})   # leaves; the window refills",
            lambda: m.Job.update(top.id, {"status": "completed"}),
            1,
        )
        first = board.all()[0]
        write(
            f">>> Job.update({first.id}, {{'title': 'URGENT: {first.title}'}})",
            lambda: m.Job.update(first.id, {"title": f"URGENT: {first.title}"}),
            1,
        )
        shown = board.all()

        def both() -> None:
            with rr.transaction():
                for job in shown:
                    m.Job.update(job.id, {"priority": 1})

        demo.say(">>> with rr.transaction():   # two writes, one notification")
        write("...     Job.update(key, {'priority': 1}) for each job on the board", both, 1)
        write(
            f">>> Job.update({top.id}, {{'description': 'invoiced'}})   # not on the board",
            lambda: m.Job.update(top.id, {"description": "invoiced"}),
            0,
        )
        demo.say("  (no notification)")
    finally:
        unsubscribe()
    demo.show("board.data", board.data, ("id", "title", "status", "priority"))
    count = m.Job.by_client(client).open().aggregate("count")
    before = count.data
    m.Job.update(shown[0].id, {"status": "completed"})
    demo.show(
        f'Job.by_client({client}).open().aggregate("count").data   # before, after a completion',
        [before, count.data],
    )


def _describe(snapshot: Snapshot) -> str:
    parts = ["data=" + _keys(snapshot.data)]
    if snapshot.added:
        parts.append("added=" + _keys(snapshot.added))
    if snapshot.removed:
        parts.append("removed=" + _keys(snapshot.removed))
    if snapshot.changed:
        parts.append("changed=" + _keys(tuple(new for _old, new in snapshot.changed)))
    return " ".join(parts)


def _keys(records: Sequence[Record]) -> str:
    return "[" + ", ".join(f"#{record.id}" for record in records) + "]"


CORE_STEPS: tuple[Step, ...] = (
    Step("The field-service app", models),
    Step("Queries: where", queries),
    Step("Scopes", scopes),
    Step("Order, limit and offset", paging),
    Step("Includes: related records without N+1", includes),
    Step("count, exists, pluck, find", aggregates),
    Step("Validations: nothing invalid is written", validations),
    Step("Writes", writes),
    Step("Transactions", transactions),
    Step("Live queries", live),
)


# -- helpers --------------------------------------------------------------------------


def _today(demo: Demo) -> dt.date:
    return demo.rr.clock().date()


def _unchanged(demo: Demo, code: str, before: Any, after: Any) -> None:
    if before != after:
        raise AssertionError(f"{code} changed from {before!r} to {after!r}")
    demo.show(f"{code}   # unchanged", after)


class _CountingStore:
    """Delegates to the real store, counting the reads it serves."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.url = store.url
        self.reads = 0

    def fetch(self, plan: Plan) -> list[Row]:
        self.reads += 1
        return self.store.fetch(plan)

    def count(self, plan: Plan) -> int:
        self.reads += 1
        return self.store.count(plan)

    def transaction(self) -> Any:
        return self.store.transaction()

    def create_tables(self, models: Sequence[Model]) -> None:
        self.store.create_tables(models)

    def close(self) -> None:
        self.store.close()


@contextmanager
def counting_reads(demo: Demo) -> Iterator[list[int]]:
    """Count the store reads inside the block; the count is in the yielded list at exit."""
    engine = demo.rr.engine
    counter = _CountingStore(engine.store)
    engine.store = counter
    result = [0]
    try:
        yield result
    finally:
        engine.store = counter.store
        result[0] = counter.reads

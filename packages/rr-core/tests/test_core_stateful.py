"""A hypothesis state machine: random writes, bulk writes and rolled-back transactions
leave exactly the rows a plain dictionary model predicts."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from reactive_record import ReactiveRecord, ValidationError

MODELS = {
    "Item": {
        "fields": {
            "name": {"type": "string", "null": False},
            "rank": "integer",
            "lock_version": "integer",
        },
        "validations": {"rank": {"numericality": {"gte": 0, "lte": 9}}},
    }
}

names = st.text(alphabet="abcdef", min_size=1, max_size=4)
ranks = st.one_of(st.none(), st.integers(0, 9))


class Boom(Exception):
    """Raised inside a transaction block to roll it back."""


class Writes(RuleBasedStateMachine):
    """The model: name -> (rank, lock_version) of every stored Item."""

    def __init__(self) -> None:
        super().__init__()
        self.rr = ReactiveRecord("memory://", MODELS, plugins=[])
        self.rr.create_tables()
        self.items = self.rr.models.Item
        self.model: dict[str, tuple[int | None, int]] = {}

    def teardown(self) -> None:
        self.rr.close()

    def key(self, name: str) -> Any:
        return self.items.find_by(name=name).data.id  # type: ignore[union-attr]

    @rule(name=names, rank=ranks)
    def create(self, name: str, rank: int | None) -> None:
        if name in self.model:
            return
        self.items.create({"name": name, "rank": rank})
        self.model[name] = (rank, 0)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), rank=ranks)
    def update(self, data: st.DataObject, rank: int | None) -> None:
        name = data.draw(st.sampled_from(sorted(self.model)))
        self.items.update(self.key(name), {"rank": rank})
        self.model[name] = (rank, self.model[name][1] + 1)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def destroy(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.model)))
        self.items.destroy(self.key(name))
        del self.model[name]

    @rule(low=st.integers(0, 9), rank=st.integers(0, 12))
    def update_all(self, low: int, rank: int) -> None:
        hit = sorted(n for n, (r, _) in self.model.items() if r is not None and r >= low)
        if rank > 9 and hit:
            with pytest.raises(ValidationError):
                self.items.where(rank={"gte": low}).update_all({"rank": rank})
            return
        assert self.items.where(rank={"gte": low}).update_all({"rank": rank}) == len(hit)
        for name in hit:
            self.model[name] = (rank, self.model[name][1] + 1)

    @rule(high=st.integers(0, 9))
    def destroy_all(self, high: int) -> None:
        hit = [n for n, (r, _) in self.model.items() if r is None or r <= high]
        query = self.items.where({"or": [{"rank": None}, {"rank": {"lte": high}}]})
        assert query.destroy_all() == len(hit)
        for name in hit:
            del self.model[name]

    @rule(name=names, data=st.data())
    def rolled_back(self, name: str, data: st.DataObject) -> None:
        with pytest.raises(Boom), self.rr.transaction():
            if name not in self.model:
                self.items.create({"name": name, "rank": 1})
            if self.model:
                victim = data.draw(st.sampled_from(sorted(self.model)))
                self.items.destroy(self.key(victim))
            self.items.update_all({"rank": 0})
            raise Boom

    @invariant()
    def rows_match_the_model(self) -> None:
        stored = {r.name: (r.rank, r.lock_version) for r in self.items.all()}
        assert stored == self.model
        assert self.items.count() == len(self.model)


Writes.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
test_writes_match_a_dictionary = Writes.TestCase

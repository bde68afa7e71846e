"""rr-activity's configuration: validated by its own schemas, mistakes named by TOML path."""

from __future__ import annotations

from typing import Any

import pytest
from reactive_record import ConfigError, ReactiveRecord

JOB: dict[str, Any] = {
    "fields": {
        "title": "string",
        "status": "string",
        "client_id": "integer",
        "ref": "uuid",
        "lock_version": "integer",
    },
    "features": {"activity": True},
}


def build(job: dict[str, Any] | None = None, **config: Any) -> ReactiveRecord:
    """An instance on the memory store with Job (and User) and the activity plugin."""
    models = {"Job": job or JOB, "User": {"fields": {"name": "string"}}}
    return ReactiveRecord(database="memory://", models=models, plugins=["activity"], config=config)


def with_section(section: Any, **table: Any) -> dict[str, Any]:
    """JOB with an ``activity`` section (and other keys replaced)."""
    return {**JOB, "activity": section, **table}


@pytest.mark.parametrize(
    ("section", "path", "value"),
    [
        ({"track": ["title"]}, "track", "track"),
        ({"track_fields": ["nope"]}, "track_fields", "nope"),
        ({"track_fields": "title"}, "track_fields", "title"),
        ({"redact": ["secret"]}, "redact", "secret"),
        ({"chain": "maybe"}, "chain", "maybe"),
        ({"chain": "yes"}, "chain", "yes"),
        ({"actions": ["Bad Name"]}, "actions.0", "Bad Name"),
        ({"uuid_field": "title"}, "uuid_field", "title"),
    ],
)
def test_model_section_mistakes_name_their_path(section: Any, path: str, value: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        build(with_section(section))
    assert caught.value.path == f"reactive-record.models.Job.activity.{path}"
    assert caught.value.value == value


def test_top_section_mistakes_name_their_path() -> None:
    with pytest.raises(ConfigError) as caught:
        build(activity={"user_model": "Person"})
    assert caught.value.path == "reactive-record.activity.user_model"
    with pytest.raises(ConfigError) as caught:
        build(activity={"users": "User"})
    assert caught.value.path == "reactive-record.activity.users"


def test_defaults_track_every_field_but_the_key_and_lock_version() -> None:
    rr = build()
    activity = rr.extensions["activity"].activity("Job")
    assert activity.tracked == ("title", "status", "client_id", "ref")
    assert activity.uuid_field is None and not activity.chain
    assert activity.knows_action("revert") and not activity.knows_action("assign")


def test_the_log_model_and_the_association_are_registered() -> None:
    rr = build(with_section({"uuid_field": "ref", "actions": ["assign"]}))
    log = rr.model_definition("ActivityLog")
    assert log.table == "activity_logs" and log.fields["id"].type == "uuid"
    assert ("entity_type", "entity_id", "created_at") in log.indexes
    assert log.fields["client_id"].type == "integer"
    association = rr.model_definition("Job").associations["activity_logs"]
    assert association.polymorphic_type == ("entity_type", "Job")
    assert "activity_logs" not in rr.model_definition("User").associations
    activity = rr.extensions["activity"].activity("Job")
    assert activity.uuid_field == "ref" and activity.knows_action("assign")


def test_the_tenant_type_follows_the_logged_models() -> None:
    job = {**JOB, "fields": {**JOB["fields"], "client_id": "string"}}
    assert build(job).model_definition("ActivityLog").fields["client_id"].type == "string"


def test_the_log_model_cannot_be_redefined_or_logged() -> None:
    models = {"Job": JOB, "ActivityLog": {"features": {"activity": True}}}
    with pytest.raises(ConfigError) as caught:
        ReactiveRecord(database="memory://", models=models, plugins=["activity"])
    assert caught.value.path == "reactive-record.models.ActivityLog.features.activity"


def test_the_association_name_is_taken() -> None:
    job = {**JOB, "has_many": {"activity_logs": {"model": "User", "foreign_key": "name"}}}
    with pytest.raises(ConfigError) as caught:
        build(job)
    assert caught.value.path == "reactive-record.models.Job.has_many.activity_logs"


def test_hook_rr_checks_names_a_missing_log_table() -> None:
    rr = build()
    problems = [p for p in rr.checks() if p.startswith("activity:")]
    assert len(problems) == 1 and "activity_logs" in problems[0]
    assert "create_tables()" in problems[0]
    rr.create_tables()
    assert [p for p in rr.checks() if p.startswith("activity:")] == []


def test_hook_rr_checks_is_silent_when_no_model_logs() -> None:
    # Installing the plugin is not a problem; it needs its table once a model uses it.
    rr = build({**JOB, "features": {}})
    assert [p for p in rr.checks() if p.startswith("activity:")] == []

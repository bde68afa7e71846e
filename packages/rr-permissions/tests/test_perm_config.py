"""Configuration: every mistake is a ConfigError naming the TOML path, the value and the fix."""

from __future__ import annotations

from typing import Any

import pytest
from reactive_record import ConfigError, ReactiveRecord

from .conftest import STANDARD, job_models

PATH = "reactive-record.models.Job.permissions"
PLUGINS = ["permissions"]


def configure(section: Any, **config: Any) -> ReactiveRecord:
    return ReactiveRecord(
        database="memory://", models=job_models(section), plugins=PLUGINS, config=config
    )


@pytest.mark.parametrize(
    ("section", "path", "fragment"),
    [
        ({"asign": True}, f"{PATH}.asign", "list custom ones in `actions`"),
        ({"read": {"type": "ownr"}}, f"{PATH}.read.type", "owner, client_member, role_based"),
        ({"read": {"status": {"eq": 1}}}, f"{PATH}.read", "not a valid string"),
        ({"read": {"nope": 1}}, f"{PATH}.read", "no field 'nope'"),
        ({"read": {"status": {"near": "x"}}}, f"{PATH}.read", "unknown operator 'near'"),
        ({"read": {"type": "owner", "field": "owner_id"}}, f"{PATH}.read.field", "a field of Job"),
        ({"read": {"type": "role_based"}}, f"{PATH}.read.roles", "Missing data"),
        ({"read": {"type": "role_based", "roles": []}}, f"{PATH}.read.roles", "Shorter"),
        ({"read": {"type": "owner", "extra": 1}}, f"{PATH}.read.extra", "unknown key"),
        ({"read": {"all": []}}, f"{PATH}.read.all", "non-empty list"),
        ({"read": {"any": [True, {"type": "x"}]}}, f"{PATH}.read.any.1.type", "one of"),
        ({"read": 3}, f"{PATH}.read", "a rule: true, false"),
        (
            {"read": {"type": "custom", "function": "no_such_module:f"}},
            f"{PATH}.read.function",
            "an importable module",
        ),
        ({"read": {"type": "custom"}}, f"{PATH}.read.function", "Missing data"),
        ({"policy": "no_such_module:JobPolicy"}, f"{PATH}.policy", "an importable module"),
        ({"actions": ["Assign"]}, f"{PATH}.actions.0", "snake_case"),
        ({"actions": ["scope"]}, f"{PATH}.actions", "an action name other than 'scope'"),
        ({"permitted_fields": {"assign": {}}}, f"{PATH}.permitted_fields.assign", "declared"),
        (
            {"permitted_fields": {"update": {"technician": ["colour"]}}},
            f"{PATH}.permitted_fields.update.technician",
            "a field of Job",
        ),
        ({"hidden_fields": {"viewer": ["id"]}}, f"{PATH}.hidden_fields.viewer", "primary key"),
        ({"hidden_fields": {"viewer": ["nope"]}}, f"{PATH}.hidden_fields.viewer", "a field"),
    ],
)
def test_hook_rr_configure_mistakes_name_the_toml_path(
    section: Any, path: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        configure(section)
    assert caught.value.path == path
    assert fragment in str(caught.value)


def test_custom_actions_are_declared_in_actions() -> None:
    with configure(
        {**STANDARD, "actions": ["assign"], "assign": {"type": "role_based", "roles": ["admin"]}}
    ) as rr:
        perms = rr.extensions["permissions"].models["Job"]
        assert perms.actions == ("read", "create", "update", "destroy", "assign")


def test_policy_must_subclass_policy(policies_on_path: str) -> None:
    with pytest.raises(ConfigError) as caught:
        configure({"policy": f"{policies_on_path}:NotAPolicy"})
    assert caught.value.path == f"{PATH}.policy"
    assert "a subclass of rr_permissions.Policy" in str(caught.value)


def test_client_member_needs_a_tenant_field() -> None:
    models = job_models({"read": {"type": "client_member"}})
    del models["Job"]["tenant_field"]
    del models["Job"]["fields"]["client_id"]
    del models["Job"]["belongs_to"]
    with pytest.raises(ConfigError) as caught:
        ReactiveRecord(database="memory://", models=models, plugins=PLUGINS)
    assert caught.value.path == f"{PATH}.read.type"
    assert "tenant_field" in str(caught.value)


def test_a_section_without_the_feature_is_refused() -> None:
    models = job_models(None)
    models["Job"]["permissions"] = {"read": True}
    with pytest.raises(ConfigError) as caught:
        ReactiveRecord(database="memory://", models=models, plugins=PLUGINS)
    assert caught.value.path == PATH
    assert "features = { permissions = true }" in str(caught.value)


def test_top_level_section_is_validated() -> None:
    with pytest.raises(ConfigError) as caught:
        configure(STANDARD, permissions={"cache_sise": 3})
    assert caught.value.path == "reactive-record.permissions.cache_sise"
    with pytest.raises(ConfigError) as caught:
        configure(STANDARD, permissions={"user_model": "Person"})
    assert caught.value.path == "reactive-record.permissions.user_model"


def test_policies_module_is_found_by_naming_convention(policies_on_path: str) -> None:
    with configure({}, permissions={"policies": policies_on_path}) as rr:
        assert rr.extensions["permissions"].models["Job"].policy.__name__ == "JobPolicy"


def test_a_policies_module_that_does_not_import_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        configure({}, permissions={"policies": "no_such_policies"})
    assert caught.value.path == "reactive-record.permissions.policies"
    assert "an importable module" in str(caught.value)

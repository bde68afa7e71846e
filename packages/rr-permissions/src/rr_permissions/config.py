"""Reading ``[tool.reactive-record.permissions]`` and each model's ``permissions`` section.

Shapes are checked with marshmallow schemas; what a schema cannot know (an action that
was not declared, a field the model lacks, a function that does not import) is checked
here. Every mistake is a :class:`ConfigError` naming the TOML path, the bad value and
what is allowed.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from marshmallow import RAISE, Schema, fields, validate
from reactive_record import ConfigError, InvalidQuery
from reactive_record import conditions as cond
from reactive_record.config import validate_section
from reactive_record.model import Model
from reactive_record.references import import_reference

from . import rules
from .policy import RESERVED, Policy

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord

FEATURE = "permissions"
STANDARD_ACTIONS = ("read", "create", "update", "destroy")
SECTION_KEYS = frozenset({"policy", "actions", "permitted_fields", "hidden_fields"})
RULE_TYPES = ("owner", "client_member", "role_based", "custom")
RULE_SHAPES = (
    "a rule: true, false, { type = ... } (owner, client_member, role_based, custom), "
    "{ all = [...] }, { any = [...] }, { not = {...} }, { where = {...} } or a condition"
)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class TopSchema(_Strict):
    """``[tool.reactive-record.permissions]``: settings shared by every model."""

    policies = fields.String()
    cache_size = fields.Integer(load_default=10_000, validate=validate.Range(min=0))
    user_model = fields.String()
    user_loader = fields.String()


class OwnerSchema(_Strict):
    """``{ type = "owner", field = "user_id" }``."""

    type = fields.String(required=True)
    field = fields.String(load_default="user_id")


class ClientMemberSchema(_Strict):
    """``{ type = "client_member" }`` (the tenant fields come from the core's config)."""

    type = fields.String(required=True)


class RoleSchema(_Strict):
    """``{ type = "role_based", roles = ["admin", "manager"] }``."""

    type = fields.String(required=True)
    roles = fields.List(fields.String(), required=True, validate=validate.Length(min=1))


class CustomSchema(_Strict):
    """``{ type = "custom", function = "pkg.mod:func" }``."""

    type = fields.String(required=True)
    function = fields.String(required=True)


TYPED_SCHEMAS: dict[str, type[Schema]] = {
    "owner": OwnerSchema,
    "client_member": ClientMemberSchema,
    "role_based": RoleSchema,
    "custom": CustomSchema,
}


def section_schema(actions: tuple[str, ...]) -> Schema:
    """The schema of one model's ``permissions`` section with its declared actions."""
    declared: dict[str, fields.Field[Any]] = {
        "policy": fields.Raw(),
        "actions": fields.List(
            fields.String(
                validate=validate.Regexp(
                    r"^[a-z_][a-z0-9_]*$", error="action names are snake_case identifiers"
                )
            )
        ),
        "permitted_fields": fields.Dict(
            keys=fields.String(),
            values=fields.Dict(keys=fields.String(), values=fields.List(fields.String())),
        ),
        "hidden_fields": fields.Dict(keys=fields.String(), values=fields.List(fields.String())),
    }
    for action in actions:
        declared[action] = fields.Raw(allow_none=False)
    return Schema.from_dict(declared, name="PermissionsSchema")(unknown=RAISE)


@dataclass(frozen=True)
class Settings:
    """The parsed top-level section."""

    policies: ModuleType | None
    cache_size: int
    user_model: str | None
    user_loader: Callable[[ReactiveRecord, str], Any] | None


@dataclass(frozen=True)
class ModelConfig:
    """One model's parsed section: actions, rules, policy, field permissions."""

    actions: tuple[str, ...]
    rules: Mapping[str, rules.Rule]
    policy: type[Policy] | None
    permitted: Mapping[str, Mapping[str, frozenset[str]]]
    hidden: Mapping[str, frozenset[str]]


def load_settings(rr: ReactiveRecord, data: Any, path: str) -> Settings:
    """Validate the top-level ``permissions`` section."""
    loaded = validate_section(TopSchema(), data, path)
    user_model = loaded.get("user_model")
    names = [model.name for model in rr.model_definitions()]
    if user_model is not None and user_model not in names:
        raise ConfigError(f"{path}.user_model", user_model, f"a model ({', '.join(names)})")
    loader = loaded.get("user_loader")
    return Settings(
        _module(loaded.get("policies"), f"{path}.policies", rr),
        loaded["cache_size"],
        user_model,
        import_reference(loader, f"{path}.user_loader", rr.root) if loader else None,
    )


def load_model(
    rr: ReactiveRecord, model: Model, data: Any, path: str, settings: Settings
) -> ModelConfig:
    """Validate one model's ``permissions`` section and build its rules."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(path, data, "a table of permission settings")
    declared = data.get("actions") or ()
    actions = tuple(
        dict.fromkeys((*STANDARD_ACTIONS, *(a for a in declared if isinstance(a, str))))
    )
    for key in data:
        if key not in SECTION_KEYS and key not in actions:
            raise ConfigError(
                f"{path}.{key}",
                key,
                f"an action ({', '.join(actions)}; list custom ones in `actions`) "
                f"or one of {', '.join(sorted(SECTION_KEYS))}",
            )
    loaded = validate_section(section_schema(actions), data, path)
    for action in actions:
        if action in RESERVED:
            raise ConfigError(f"{path}.actions", action, f"an action name other than {action!r}")
    parser = _RuleParser(rr, model)
    parsed = {
        action: parser.parse(loaded[action], f"{path}.{action}", action)
        for action in actions
        if action in loaded
    }
    permitted = {}
    for action, by_role in (loaded.get("permitted_fields") or {}).items():
        if action not in actions:
            raise ConfigError(f"{path}.permitted_fields.{action}", action, "a declared action")
        permitted[action] = {
            role: _fields(model, names, f"{path}.permitted_fields.{action}.{role}")
            for role, names in by_role.items()
        }
    hidden = {
        role: _fields(model, names, f"{path}.hidden_fields.{role}")
        for role, names in (loaded.get("hidden_fields") or {}).items()
    }
    for role, names in hidden.items():
        if model.primary_key in names:
            raise ConfigError(
                f"{path}.hidden_fields.{role}",
                model.primary_key,
                "fields other than the primary key",
            )
    policy = _policy(rr, model, loaded.get("policy"), f"{path}.policy", settings)
    return ModelConfig(actions, parsed, policy, permitted, hidden)


def _module(name: str | None, path: str, rr: ReactiveRecord) -> ModuleType | None:
    """The module where ``<Model>Policy`` classes are looked up by naming convention."""
    if name is None:
        return None
    if rr.root is not None and str(rr.root) not in sys.path:
        sys.path.insert(0, str(rr.root))
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ConfigError(path, name, f"an importable module ({exc})") from None


def _fields(model: Model, names: list[str], path: str) -> frozenset[str]:
    for name in names:
        if name not in model.fields:
            raise ConfigError(path, name, f"a field of {model.name} ({', '.join(model.fields)})")
    return frozenset(names)


def _policy(
    rr: ReactiveRecord, model: Model, reference: Any, path: str, settings: Settings
) -> type[Policy] | None:
    if reference is None:
        module = settings.policies
        target = getattr(module, f"{model.name}Policy", None) if module is not None else None
        if module is None or target is None:
            return None
        reference = f"{module.__name__}:{model.name}Policy"
    elif isinstance(reference, str):
        target = import_reference(reference, path, rr.root)
    else:
        target = reference
    if not (isinstance(target, type) and issubclass(target, Policy)):
        raise ConfigError(path, reference, "a subclass of rr_permissions.Policy")
    return target


class _RuleParser:
    """Turns rule data into :class:`rules.Rule` trees, naming the TOML path of mistakes."""

    def __init__(self, rr: ReactiveRecord, model: Model) -> None:
        self.rr = rr
        self.model = model
        self.lookup = rr.model_definition

    def parse(self, data: Any, path: str, action: str) -> rules.Rule:
        """The rule ``data`` describes; ConfigError at ``path`` when it describes none."""
        if isinstance(data, bool):
            return rules.Constant(data, action)
        if not isinstance(data, Mapping):
            raise ConfigError(path, data, RULE_SHAPES)
        if "type" in data:
            return self._typed(data, path)
        if len(data) == 1:
            ((key, value),) = data.items()
            if key in ("all", "any"):
                return self._combined(key, value, f"{path}.{key}", action)
            if key == "not":
                return rules.NoneOf(self.parse(value, f"{path}.not", action))
            if key == "where":
                return self._condition(value, f"{path}.where")
        return self._condition(data, path)

    def _combined(self, key: str, value: Any, path: str, action: str) -> rules.Rule:
        if not isinstance(value, list) or not value:
            raise ConfigError(path, value, "a non-empty list of rules")
        items = tuple(self.parse(item, f"{path}.{i}", action) for i, item in enumerate(value))
        return rules.All(items) if key == "all" else rules.AnyOf(items)

    def _typed(self, data: Mapping[str, Any], path: str) -> rules.Rule:
        kind = data["type"]
        if kind not in TYPED_SCHEMAS:
            raise ConfigError(f"{path}.type", kind, f"one of {', '.join(RULE_TYPES)}")
        loaded = validate_section(TYPED_SCHEMAS[kind](), data, path)
        model = self.model
        if kind == "owner":
            owner_field = loaded["field"]
            if owner_field not in model.fields:
                raise ConfigError(
                    f"{path}.field",
                    owner_field,
                    f"a field of {model.name} ({', '.join(model.fields)})",
                )
            return rules.owner(owner_field, model, self.lookup)
        if kind == "client_member":
            if model.tenant_field is None:
                raise ConfigError(
                    f"{path}.type",
                    kind,
                    f"a rule for a model with a tenant field: set tenant_field on {model.name}",
                )
            user_field = self.rr.settings.get("user_tenant_field", "client_id")
            return rules.client_member(model.tenant_field, user_field, model, self.lookup)
        if kind == "role_based":
            return rules.Role(tuple(loaded["roles"]))
        reference = loaded["function"]
        function = import_reference(reference, f"{path}.function", self.rr.root)
        if not callable(function):
            raise ConfigError(f"{path}.function", reference, "a callable: func(user, record)")
        return rules.Custom(reference, function)

    def _condition(self, data: Any, path: str) -> rules.Rule:
        try:
            node = cond.parse(data, self.model, self.lookup)
        except InvalidQuery as exc:
            raise ConfigError(path, data, f"{RULE_SHAPES}; as a condition: {exc}") from None
        return rules.Condition(node)

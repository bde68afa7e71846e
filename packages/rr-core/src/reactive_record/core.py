"""ReactiveRecord: one instance per application database, sharing nothing with others."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import blinker
import pluggy

from . import config as cfg
from .actors import acting_as
from .definitions import build_model, check_models
from .engine import Engine
from .errors import ConfigError, PluginNotInstalled
from .model import Model
from .plugins import make_plugin_manager
from .query import ModelHandle, Query
from .records import Record
from .references import import_reference
from .store import Store, Transaction
from .ttl import Coordinator

SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")

#: Signals every instance sends through its own blinker namespace.
SIGNALS = ("committed", "callback-error", "evicted")


def utc_now() -> dt.datetime:
    """The current time as an aware UTC datetime (the default clock)."""
    return dt.datetime.now(dt.timezone.utc)


class Models:
    """``rr.models``: each model's :class:`ModelHandle` as an attribute or item."""

    def __init__(self, handles: Mapping[str, ModelHandle[Any]]) -> None:
        self._handles = dict(handles)

    def __getattr__(self, name: str) -> ModelHandle[Any]:
        try:
            return self._handles[name]
        except KeyError:
            known = ", ".join(sorted(self._handles)) or "none"
            raise AttributeError(f"no model {name!r}; models: {known}") from None

    def __getitem__(self, name: str) -> ModelHandle[Any]:
        return self.__getattr__(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._handles)

    def __contains__(self, name: object) -> bool:
        return name in self._handles

    def __len__(self) -> int:
        return len(self._handles)

    def __dir__(self) -> list[str]:
        return sorted(self._handles)


class ReactiveRecord:
    """An application database: its plugins, models, store, live queries and signals.

    ``ReactiveRecord(database=..., models=..., plugins=...)`` builds one from Python data;
    :meth:`from_pyproject` builds one from ``[tool.reactive-record]``. ``plugins`` None
    loads every installed plugin, a list of names exactly those.
    """

    def __init__(
        self,
        database: str | None = None,
        models: Mapping[str, Any] | None = None,
        plugins: Sequence[str] | None = None,
        *,
        config: Mapping[str, Any] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        root: Path | None = None,
        config_path: str = "models",
    ) -> None:
        raw = dict(config or {})
        if models is not None:
            raw["models"] = dict(models)
        prefix = cfg.TABLE if config_path == cfg.TABLE else "reactive-record"
        #: Where this instance's settings live, for plugins' ConfigError paths.
        self.config_prefix = prefix
        self.root = root
        self.clock: Callable[[], dt.datetime] = clock or utc_now
        selected = plugins if plugins is not None else raw.get("plugins")
        # Checked before the schema runs: plugins decide which sections the schema allows.
        if selected is not None and (
            isinstance(selected, str)
            or not isinstance(selected, Sequence)
            or not all(isinstance(name, str) for name in selected)
        ):
            raise ConfigError(f"{prefix}.plugins", selected, "a list of plugin names")
        self.plugin_manager: pluggy.PluginManager = make_plugin_manager(selected)
        self.signals = blinker.Namespace()
        self.extensions: dict[str, Any] = {}
        hook = self.plugin_manager.hook
        self.features = frozenset(f for names in hook.rr_model_features() for f in names)
        self.settings = cfg.load(raw, self.features, prefix)
        self._definitions = self._build_models(prefix)
        self.url = cfg.database_url(database, self.settings.get("database"))
        self.store: Store = self._open_store()
        try:
            self._reflect_models()
            self._computed = self._import_computed(prefix)
            hook.rr_configure(rr=self, config=self.settings)
        except BaseException:
            # A start-up that fails must not leak the store's connections.
            self.store.close()
            raise
        self.engine = Engine(self, self.store)
        self.models = Models({name: self.engine.handle(m) for name, m in self._definitions.items()})

    @classmethod
    def from_pyproject(
        cls, path: str | Path | None = None, *, database: str | None = None, **kwargs: Any
    ) -> ReactiveRecord:
        """Build from the nearest ``pyproject.toml`` upward from the cwd (or ``path``)."""
        if path is None:
            found = cfg.find_pyproject()
            if found is None:
                raise ConfigError(
                    "pyproject.toml", str(Path.cwd()), "a pyproject.toml here or above"
                )
            path = found
        path = Path(path)
        if path.is_dir():
            path = path / "pyproject.toml"
        table = cfg.read_pyproject(path)
        return cls(
            database=database,
            config=table,
            root=path.parent.resolve(),
            config_path=cfg.TABLE,
            **kwargs,
        )

    # -- start-up -------------------------------------------------------------------------

    def _build_models(self, prefix: str) -> dict[str, Model]:
        tables: dict[str, Any] = {}

        def register(name: str, definition: Mapping[str, Any]) -> None:
            tables[name] = definition

        self.plugin_manager.hook.rr_register_models(rr=self, register=register)
        if tables:
            tables = cfg.load({"models": tables}, self.features, prefix)["models"]
        for name, table in self.settings["models"].items():
            registered = tables.get(name)
            if registered is None:
                tables[name] = table
                continue
            # A user's table for a plugin's model adds to it (features and their sections,
            # e.g. permissions on ActivityLog); what the plugin defines stays.
            features = {**registered.get("features", {}), **table.get("features", {})}
            tables[name] = {**table, **registered, "features": features}
        tenant = self.settings.get("user_tenant_field", "client_id")
        built = {
            name: build_model(name, table, tenant, self.features, prefix)
            for name, table in tables.items()
        }
        check_models(built, prefix)
        return built

    def _open_store(self) -> Store:
        store = self.plugin_manager.hook.rr_open_store(rr=self, url=self.url)
        if store is not None:
            return store  # type: ignore[no-any-return]
        scheme = urlsplit(self.url).scheme.split("+", 1)[0]
        if scheme in SQL_SCHEMES:
            raise PluginNotInstalled(f"database {self.url!r}", "rr-sqlalchemy")
        raise ConfigError(
            "database", self.url, "a URL a store plugin handles (memory://, sqlite://...)"
        )

    def _reflect_models(self) -> None:
        reflect = getattr(self.store, "reflect_model", None)
        for model in self._definitions.values():
            if not model.reflect:
                continue
            if reflect is None:
                raise ConfigError(
                    f"models.{model.name}.fields", None, "fields (this store cannot reflect tables)"
                )
            reflect(model)
            # The same tenant rule as for declared fields (definitions.build_model).
            tenant = self.settings.get("user_tenant_field", "client_id")
            if model.tenant_field is None and tenant in model.fields:
                model.tenant_field = tenant

    def _import_computed(
        self, prefix: str
    ) -> dict[str, tuple[tuple[str, Callable[[Record], Any]], ...]]:
        return {
            model.name: tuple(
                (
                    name,
                    import_reference(
                        ref, f"{prefix}.models.{model.name}.computed.{name}", self.root
                    ),
                )
                for name, ref in model.computed.items()
            )
            for model in self._definitions.values()
            if model.computed
        }

    # -- models -----------------------------------------------------------------------

    def model(self, name: str) -> ModelHandle[Any]:
        """The handle of model ``name`` (as ``rr.models.NAME``)."""
        return self.models[name]

    def model_definition(self, name: str) -> Model:
        """The :class:`Model` definition called ``name``."""
        try:
            return self._definitions[name]
        except KeyError:
            known = ", ".join(sorted(self._definitions)) or "none"
            raise ConfigError("models", name, f"a defined model ({known})") from None

    def model_definitions(self) -> tuple[Model, ...]:
        """Every model definition, plugins' models included."""
        return tuple(self._definitions.values())

    def computed_functions(self, model: Model) -> tuple[tuple[str, Callable[[Record], Any]], ...]:
        """The configured computed properties of ``model`` as (name, function) pairs."""
        return self._computed.get(model.name, ())

    # -- database ---------------------------------------------------------------------

    def create_tables(self) -> None:
        """Create every model's table that does not exist yet."""
        self.store.create_tables(self.model_definitions())

    @property
    def metadata(self) -> Any:
        """The SQLAlchemy ``MetaData`` of the models, for Alembic (needs rr-sqlalchemy)."""
        metadata = getattr(self.store, "metadata", None)
        if metadata is None:
            raise PluginNotInstalled("rr.metadata", "rr-sqlalchemy")
        return metadata

    def transaction(self) -> AbstractContextManager[Transaction]:
        """One commit for every write inside; reads inside see its writes."""
        return self.engine.transaction()

    def preload(self, query: Query[Any], ttl: str | None = None) -> None:
        """Keep ``query`` live and cached without a subscriber, for ``ttl``.

        ``ttl`` is ``"30s"``, ``"4h"``, ``"forever"``...; the model's ``ttl.preload``
        when omitted. Later reads and subscriptions of the same query are served from it.
        """
        self.engine.live.preload(query, ttl)

    def coordinator(self) -> Coordinator:
        """A coordinator: named queries with TTLs and preloads, combined into groups."""
        return self.engine.live.coordinator()

    def acting_as(self, user: Any) -> AbstractContextManager[Any]:
        """The default user of writes and scoped reads in this context (thread/task safe)."""
        return acting_as(self, user)

    def authorize(
        self, user: Any, action: str, model: Model, record: Mapping[str, Any] | None
    ) -> bool:
        """Ask every ``rr_authorize`` implementation; any False denies, no opinion allows."""
        answers = self.plugin_manager.hook.rr_authorize(
            rr=self, user=user, action=action, model=model, record=record
        )
        return not any(answer is False for answer in answers)

    def hidden_fields(self, user: Any, model: Model) -> frozenset[str]:
        """Ask every ``rr_hidden_fields`` implementation: the fields reads hide from ``user``."""
        hidden: set[str] = set()
        for names in self.plugin_manager.hook.rr_hidden_fields(rr=self, user=user, model=model):
            hidden.update(names or ())
        return frozenset(hidden)

    def signal(self, name: str) -> blinker.NamedSignal:
        """This instance's signal ``name`` (``committed``, ``callback-error``, ``evicted``)."""
        return self.signals.signal(name)

    def checks(self) -> list[str]:
        """Every problem plugins report (``reactive-record check``)."""
        problems: list[str] = []
        for found in self.plugin_manager.hook.rr_checks(rr=self):
            problems.extend(found or ())
        return problems

    def close(self) -> None:
        """Stop live queries and release the store's connections; reads and writes then
        raise ``ReactiveRecordError``."""
        self.engine.closed = True
        self.engine.live.close()
        self.store.close()

    def __enter__(self) -> ReactiveRecord:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ReactiveRecord {self.url} models={sorted(self._definitions)}>"

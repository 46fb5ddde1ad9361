"""The engine: ask questions, continue conversations, look at the schema.

:class:`Engine` blocks while the engine works, with the GIL released, so other Python threads
keep running; :class:`AsyncEngine` has the same methods as coroutines for asyncio. Both hold a
connection pool and are safe to share between threads (``Engine``) or tasks (``AsyncEngine``).
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from . import _native
from .answer import Answer
from .exceptions import ConfigError
from .models import Health, Schema, Session

__all__ = ["Engine", "AsyncEngine", "DEFAULT_TENANT", "PathLike", "ConfigLike", "DatabaseLike", "LlmLike"]

#: The tenant of questions that name none.
DEFAULT_TENANT = "default"

PathLike = Union[str, "os.PathLike[str]"]
#: A TOML file, or the sections of one as a dict (``{"database": {"max_rows": 100}}``).
ConfigLike = Union[PathLike, Mapping[str, Any]]
#: A URL or SQLite path, or the ``[database]`` section as a dict.
DatabaseLike = Union[PathLike, Mapping[str, Any]]
#: ``"rule"``, ``"openai"``, ``"openai:MODEL"``, or the ``[llm]`` section as a dict.
LlmLike = Union[str, Mapping[str, Any]]

_ConnectArgs = Tuple[Optional[str], Optional[str], Optional[str], Optional[str]]


class Engine:
    """The conversational BI engine (blocking calls).

    Args:
        database: where the data is: ``sqlite:///path/file.db`` (or a plain path ending in
            ``.db``/``.sqlite``/``.sqlite3``), ``postgres://user:pass@host/db`` or
            ``mysql://user:pass@host/db``; or the ``[database]`` section as a dict
            (``{"url": ..., "max_rows": 100, "statement_timeout_ms": 2000}``). Default:
            ``[database] url`` of the configuration, then ``DATABASE_URL``, then the built-in
            Chinook demo database. A URL given here wins over ``DATABASE_URL``.
        llm: what writes the SQL: ``"rule"`` (offline, no key, the default), ``"openai"``,
            ``"openai:gpt-4o-mini"``, or the ``[llm]`` section as a dict (``provider``,
            ``model``, ``base_url``, ``max_retries``, ..., and ``api_key`` to pass the key in
            code instead of ``OPENAI_API_KEY``).
        config: a TOML configuration file (the runbook's format), or its sections as a dict.
        **options: more sections of the configuration as dicts, laid over ``config``, e.g.
            ``session={"max_turns": 5}``,
            ``production={"rate_limiting": {"queries_per_minute": 30}}``.

    Raises:
        ConfigError: an unknown section or key, a value of the wrong type, an unusable URL.
        DatabaseUnavailableError: the database could not be reached.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        database: Optional[DatabaseLike] = None,
        llm: Optional[LlmLike] = None,
        config: Optional[ConfigLike] = None,
        **options: Mapping[str, Any],
    ) -> None:
        self._native = _native.Engine.connect(*_connect_args(database, llm, config, options))

    @classmethod
    def from_config(cls, path: PathLike) -> "Engine":
        """An engine configured by a TOML file (environment variables still override it)."""
        return cls(config=path)

    def ask(
        self,
        question: str,
        session_id: Optional[str] = None,
        tenant_id: str = DEFAULT_TENANT,
    ) -> Answer:
        """Answers ``question``. Pass the ``session_id`` of an earlier answer to refine it
        ("top 3 instead", "only 2024"); without one a new conversation starts.

        Raises:
            ConversationalBIError: a subclass per kind of failure (see ``exceptions``).
        """
        return Answer(self._native.ask(question, session_id, tenant_id))

    def session(self, session_id: str, tenant_id: str = DEFAULT_TENANT) -> Session:
        """The state of a conversation (no turns when it does not exist or expired)."""
        return Session._from_dict(self._native.session(tenant_id, session_id))

    def reset_session(self, session_id: str, tenant_id: str = DEFAULT_TENANT) -> None:
        """Forgets a conversation: the next question with this id starts afresh."""
        self._native.reset_session(tenant_id, session_id)

    def schema(self) -> Schema:
        """The tables and columns the engine sees (read when the engine connected); tables
        outside ``allowed_tables`` and columns in ``denied_columns`` are left out."""
        return Schema._from_dict(self._native.schema())

    def health(self) -> Health:
        """Pings the database and reports the configured generator."""
        return Health._from_dict(self._native.health())

    def __repr__(self) -> str:
        return _repr(self)


class AsyncEngine:
    """The conversational BI engine for asyncio: the methods of :class:`Engine` as coroutines.

    ``AsyncEngine(...)`` connects at once and blocks while it does (fine before the event loop
    runs, e.g. at import time or in a notebook); inside a running loop use
    ``await AsyncEngine.connect(...)``. The arguments are those of :class:`Engine`.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        database: Optional[DatabaseLike] = None,
        llm: Optional[LlmLike] = None,
        config: Optional[ConfigLike] = None,
        **options: Mapping[str, Any],
    ) -> None:
        self._native = _native.Engine.connect(*_connect_args(database, llm, config, options))

    @classmethod
    async def connect(
        cls,
        database: Optional[DatabaseLike] = None,
        llm: Optional[LlmLike] = None,
        config: Optional[ConfigLike] = None,
        **options: Mapping[str, Any],
    ) -> "AsyncEngine":
        """Connects without blocking the event loop."""
        native = await _native.Engine.connect_async(*_connect_args(database, llm, config, options))
        return cls._wrap(native)

    @classmethod
    async def from_config(cls, path: PathLike) -> "AsyncEngine":
        """An engine configured by a TOML file, connected without blocking the event loop."""
        return await cls.connect(config=path)

    @classmethod
    def from_engine(cls, engine: Engine) -> "AsyncEngine":
        """An asyncio view of ``engine``: both share the connection pool and the
        conversations."""
        return cls._wrap(engine._native)

    @classmethod
    def _wrap(cls, native: _native.Engine) -> "AsyncEngine":
        self = cls.__new__(cls)
        self._native = native
        return self

    async def ask(
        self,
        question: str,
        session_id: Optional[str] = None,
        tenant_id: str = DEFAULT_TENANT,
    ) -> Answer:
        """As :meth:`Engine.ask`."""
        return Answer(await self._native.ask_async(question, session_id, tenant_id))

    async def session(self, session_id: str, tenant_id: str = DEFAULT_TENANT) -> Session:
        """As :meth:`Engine.session`."""
        return Session._from_dict(await self._native.session_async(tenant_id, session_id))

    async def reset_session(self, session_id: str, tenant_id: str = DEFAULT_TENANT) -> None:
        """As :meth:`Engine.reset_session`."""
        await self._native.reset_session_async(tenant_id, session_id)

    async def schema(self) -> Schema:
        """As :meth:`Engine.schema`."""
        return Schema._from_dict(self._native.schema())

    async def health(self) -> Health:
        """As :meth:`Engine.health`."""
        return Health._from_dict(await self._native.health_async())

    def __repr__(self) -> str:
        return _repr(self)


def _repr(engine: Union[Engine, AsyncEngine]) -> str:
    native = getattr(engine, "_native", None)
    if native is None:  # the constructor failed
        return f"<{type(engine).__name__} (not connected)>"
    dialect, database = native.describe()
    return f"<{type(engine).__name__} {dialect}:{database}>"


def _connect_args(
    database: Optional[DatabaseLike],
    llm: Optional[LlmLike],
    config: Optional[ConfigLike],
    options: Mapping[str, Any],
) -> _ConnectArgs:
    """The native constructor's arguments: config path, options as JSON, database, API key."""
    config_path: Optional[str] = None
    overrides: Dict[str, Any] = {}
    if isinstance(config, Mapping):
        overrides = _merge(overrides, config)
    elif config is not None:
        try:
            config_path = os.fspath(config)
        except TypeError:
            raise ConfigError(
                f"config must be the path of a TOML file or a dict of sections, not "
                f"{type(config).__name__}",
                key="config",
            ) from None
    if llm is not None:
        overrides = _merge(overrides, {"llm": _llm_section(llm)})
    if options:
        overrides = _merge(overrides, options)
    # The key goes to the engine on its own: the configuration never holds it (nor shows it).
    llm_section = overrides.get("llm")
    api_key = llm_section.pop("api_key", None) if isinstance(llm_section, dict) else None
    if api_key is not None and not isinstance(api_key, str):
        raise ConfigError("llm api_key must be a string", key="llm.api_key")
    url: Any = database
    if isinstance(database, Mapping):
        section = dict(database)
        url = section.pop("url", None)
        overrides = _merge(overrides, {"database": section})
    db: Optional[str] = None
    if url is not None:
        try:
            db = os.fspath(url)
        except TypeError:
            raise ConfigError(
                f"database must be a URL, a path or a dict of [database] keys, not "
                f"{type(url).__name__}",
                key="database.url",
            ) from None
    try:
        encoded = json.dumps(overrides, default=_json_default) if overrides else None
    except (TypeError, ValueError) as e:
        raise ConfigError(f"configuration values must be TOML-like values: {e}") from None
    return config_path, encoded, db, api_key


def _llm_section(llm: LlmLike) -> Dict[str, Any]:
    if isinstance(llm, str):
        provider, _, model = llm.partition(":")
        section: Dict[str, Any] = {"provider": provider.strip().lower()}
        if model.strip():
            section["model"] = model.strip()
        return section
    if isinstance(llm, Mapping):
        return dict(llm)
    raise ConfigError(
        f'llm must be "rule", "openai", "openai:MODEL" or a dict of [llm] keys, not '
        f"{type(llm).__name__}",
        key="llm",
    )


def _merge(base: Dict[str, Any], over: Mapping[str, Any]) -> Dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        elif isinstance(value, Mapping):
            out[key] = _merge({}, value)
        else:
            out[key] = value
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{value!r} ({type(value).__name__}) is not a string, number, bool, list or dict")

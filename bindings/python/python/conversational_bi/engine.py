"""The engine: ask questions, continue conversations, rate answers, look at the schema.

:class:`Engine` blocks while the engine works, with the GIL released, so other Python threads
keep running; :class:`AsyncEngine` has the same methods as coroutines for asyncio (and
``ask_stream``, the progress of a question, read with ``for`` or ``async for``). Both hold a
connection pool and are safe to share between threads (``Engine``) or tasks (``AsyncEngine``).

Creating an engine checks the configuration (a mistake raises ``ConfigError`` at once) and
never waits on the database: the first question (or ``schema``, ``health``, ...) connects, and
a database that could not be reached is that call's error and is tried again by the next call.
``connect()`` connects up front.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Literal, Mapping, Optional, Tuple, Union

from . import _native
from .answer import Answer
from .exceptions import ConfigError, InvalidInputError
from .models import Feedback, Health, Schema, Session, SessionSummary, User
from .stream import AskStream, AsyncAskStream

__all__ = [
    "Engine",
    "AsyncEngine",
    "DEFAULT_TENANT",
    "PathLike",
    "ConfigLike",
    "DatabaseLike",
    "LlmLike",
    "UserLike",
    "RatingLike",
]

#: The tenant of questions that name none.
DEFAULT_TENANT = "default"

PathLike = Union[str, "os.PathLike[str]"]
#: A TOML file, or the sections of one as a dict (``{"database": {"max_rows": 100}}``).
ConfigLike = Union[PathLike, Mapping[str, Any]]
#: A URL or SQLite path, or the ``[database]`` section as a dict.
DatabaseLike = Union[PathLike, Mapping[str, Any]]
#: ``"rule"``, ``"openai"``, ``"openai:MODEL"``, or the ``[llm]`` section as a dict.
LlmLike = Union[str, Mapping[str, Any]]
#: Who asks: a :class:`~conversational_bi.User` dict, ``{"id": "jane", "tenant": "acme",
#: "roles": ["sales_rep"], "attributes": {"employee_id": 3}}`` (every key optional).
UserLike = Union[User, Mapping[str, Any]]

#: A rating of an answer: ``"up"`` (it was right) or ``"down"`` (it was wrong).
RatingLike = Literal["up", "down"]

_ConnectArgs = Tuple[Optional[str], Optional[str], Optional[str]]


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

    The engine connects to the database at its first use (see :meth:`connect`). Rate limits
    are off unless the configuration sets ``[production.rate_limiting]``: they protect a shared
    server, and an engine in your program serves only you.

    Raises:
        ConfigError: an unknown section or key, a value of the wrong type, an unusable URL, a
            hosted model without its key.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        database: Optional[DatabaseLike] = None,
        llm: Optional[LlmLike] = None,
        config: Optional[ConfigLike] = None,
        **options: Mapping[str, Any],
    ) -> None:
        self._native = _native.Engine.create(*_connect_args(database, llm, config, options))

    @classmethod
    def from_config(cls, path: PathLike) -> "Engine":
        """An engine configured by a TOML file (environment variables still override it)."""
        return cls(config=path)

    def connect(self) -> "Engine":
        """Connects to the database now rather than at the first question, and returns the
        engine (``engine = Engine(...).connect()``).

        Raises:
            DatabaseUnavailableError: the database could not be reached (the next call tries
                again).
            ConfigError: the database does not exist (e.g. no SQLite file at the path).
        """
        self._native.connect()
        return self

    def ask(
        self,
        question: str,
        session_id: Optional[str] = None,
        tenant_id: Optional[str] = None,
        user: Optional[UserLike] = None,
        *,
        remove_scope: Optional[str] = None,
    ) -> Answer:
        """Answers ``question``. Pass the ``session_id`` of an earlier answer to refine it
        ("top 3 instead", "only 2024"); without one a new conversation starts.

        ``remove_scope`` asks, instead of a question, for the conversation's last answer
        without one of its parts: the ``id`` of one of that answer's :attr:`Answer.scope`
        items (``"filter:0"``, ``"group:1"``, ``"order"``, ``"limit"``), with an empty
        question and the conversation's ``session_id``::

            top = engine.ask("Top 5 genres by number of tracks")
            every = engine.ask("", session_id=top.session_id, remove_scope="limit")

        The answer is a new turn of the conversation (saved as ``without "top 5"``), and
        follow-ups continue from it.

        ``tenant_id`` is the tenant asking (:data:`DEFAULT_TENANT` when neither it nor the
        user names one). ``user`` is who asks, a :class:`~conversational_bi.User` dict such as
        ``{"id": "jane", "roles": ["sales_rep"], "attributes": {"employee_id": 3}}``: the
        conversation belongs to that user (no other user can continue it), and the roles and
        attributes decide which rows and columns the answer may show (``[access]`` of the
        configuration). Without ``user`` the engine's default user asks, with
        ``[access] default_roles``.

        Raises:
            InvalidInputError: an unusable question, or a ``user`` that is not such a dict (the
                message says which key is wrong), or a tenant in ``user`` other than
                ``tenant_id``; a ``remove_scope`` that names no part of the last answer, with a
                question, without a ``session_id``, or for a conversation whose last answer has
                no parts (nothing runs then).
            ConversationalBIError: a subclass per kind of failure (see ``exceptions``).
        """
        return Answer(
            self._native.ask(question, session_id, tenant_id, _user_json(user), remove_scope)
        )

    def ask_stream(
        self,
        question: str,
        session_id: Optional[str] = None,
        tenant_id: Optional[str] = None,
        user: Optional[UserLike] = None,
        *,
        remove_scope: Optional[str] = None,
    ) -> AskStream:
        """Answers ``question`` as :meth:`ask` does (same arguments), yielding its progress
        while it works: a :class:`~conversational_bi.StageEvent` as each stage begins, then the
        :class:`~conversational_bi.SqlEvent` and the :class:`~conversational_bi.RowsEvent`, then
        the :class:`~conversational_bi.AnswerEvent` (the answer ``ask`` returns) last::

            for event in engine.ask_stream("How many tracks are there per genre?"):
                if event.kind == "answer":
                    print(event.answer.rows)

        Returns at once; the question starts when the first event is read. A question that
        fails raises from the loop the exception ``ask`` would raise (with its ``code``,
        ``retryable`` and ``retry_after``; see :mod:`conversational_bi.stream`). Leaving the loop
        early, or closing the stream, cancels the work that remains, the statement running on
        the database included.

        Raises:
            InvalidInputError: a ``user`` that is not a :class:`~conversational_bi.User` dict,
                or a ``remove_scope`` that is not a scope item's id, comes with a question or
                without a ``session_id`` (at once, before any event).
        """
        return AskStream(
            self._native.ask_stream(
                question, session_id, tenant_id, _user_json(user), remove_scope
            )
        )

    def session(
        self,
        session_id: str,
        tenant_id: Optional[str] = None,
        user: Optional[UserLike] = None,
    ) -> Session:
        """The state of a conversation of ``user`` (the default user when ``None``) in the
        tenant; no turns when it does not exist, expired or is another user's."""
        return Session._from_dict(self._native.session(session_id, tenant_id, _user_json(user)))

    def reset_session(
        self,
        session_id: str,
        tenant_id: Optional[str] = None,
        user: Optional[UserLike] = None,
    ) -> None:
        """Forgets a conversation of ``user``: the next question with this id starts afresh
        (another user's conversation under the same id is left alone)."""
        self._native.reset_session(session_id, tenant_id, _user_json(user))

    def list_sessions(
        self,
        limit: int = 50,
        tenant_id: Optional[str] = None,
        user: Optional[UserLike] = None,
    ) -> List[SessionSummary]:
        """The live conversations of ``user`` (the default user when ``None``) in the tenant,
        most recently given a turn first, at most ``limit`` (1 to 200): their ids, titles,
        times and turn counts, for a sidebar. Another user's conversations are never listed,
        nor reset or expired ones.

        Raises:
            InvalidInputError: a ``limit`` that is not a whole number from 1 to 200, or a
                ``user`` that is not a :class:`~conversational_bi.User` dict.
        """
        return [
            SessionSummary._from_dict(d)
            for d in self._native.list_sessions(limit, tenant_id, _user_json(user))
        ]

    def rename_session(
        self,
        session_id: str,
        title: str,
        tenant_id: Optional[str] = None,
        user: Optional[UserLike] = None,
    ) -> Optional[SessionSummary]:
        """Gives a conversation of ``user`` a title, which :meth:`list_sessions` shows instead
        of its first question, and returns the conversation as lists show it; ``None`` when
        ``user`` has no such conversation (it never existed, expired, was reset, or is another
        user's: that one is left alone). Renaming does not move the conversation up the list.

        Raises:
            InvalidInputError: a title that is empty, over 120 characters or not on one line of
                visible characters (surrounding spaces are trimmed).
        """
        return _summary(self._native.rename_session(session_id, title, tenant_id, _user_json(user)))

    def feedback(
        self,
        session_id: str,
        turn: int,
        rating: RatingLike,
        *,
        corrected_sql: Optional[str] = None,
        comment: Optional[str] = None,
        user: Optional[UserLike] = None,
        tenant_id: Optional[str] = None,
    ) -> Feedback:
        """Rates turn ``turn`` of a conversation of ``user`` (the answer's ``session_id`` and
        ``turn``): ``"up"`` when the answer was right, ``"down"`` when it was wrong, with
        ``corrected_sql`` (the SQL that answers the question) and a ``comment``. Returns the
        stored record, which carries the turn's question and SQL. Records are kept where
        ``[feedback]`` of the configuration says (by default an SQLite file, created at the
        first feedback); admins promote them to verified queries.

        Raises:
            InvalidInputError: a session ``user`` does not have (unknown, expired, reset or
                another user's), a turn it does not have, a rating other than ``"up"`` or
                ``"down"``, a comment or correction over the configured limits.
            SqlRejectedError: ``corrected_sql`` does not pass the validator under the user's
                data permissions (it writes, reads a table the user may not, ...); ``reason``
                says why. Nothing is stored.
        """
        return Feedback._from_dict(
            self._native.feedback(
                session_id, turn, rating, corrected_sql, comment, tenant_id, _user_json(user)
            )
        )

    def schema(self, user: Optional[UserLike] = None) -> Schema:
        """The tables and columns the engine sees (read when the engine connected, which this
        call does first when needed); tables outside ``allowed_tables`` and columns in
        ``denied_columns`` are left out.

        With ``user`` (a :class:`~conversational_bi.User` dict, as for :meth:`ask`), the schema
        that user may see: only the tables their roles grant, without the columns those roles
        deny, in the database of the user's tenant.

        Raises:
            InvalidInputError: a ``user`` that is not such a dict, or, with ``[access]`` roles
                configured, a user without any of them.
        """
        return Schema._from_dict(self._native.schema(_user_json(user)))

    def health(self) -> Health:
        """Pings the database and reports the configured generator, and the database of each
        configured tenant (``tenants``, empty without ``[tenants]``)."""
        return Health._from_dict(self._native.health())

    def __repr__(self) -> str:
        return _repr(self)


class AsyncEngine:
    """The conversational BI engine for asyncio: the methods of :class:`Engine` as coroutines.

    ``AsyncEngine(...)`` checks the configuration and returns at once, without blocking the
    event loop; the first awaited call connects. ``await AsyncEngine.connect(...)`` connects
    up front. The arguments are those of :class:`Engine`.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        database: Optional[DatabaseLike] = None,
        llm: Optional[LlmLike] = None,
        config: Optional[ConfigLike] = None,
        **options: Mapping[str, Any],
    ) -> None:
        self._native = _native.Engine.create(*_connect_args(database, llm, config, options))

    @classmethod
    async def connect(
        cls,
        database: Optional[DatabaseLike] = None,
        llm: Optional[LlmLike] = None,
        config: Optional[ConfigLike] = None,
        **options: Mapping[str, Any],
    ) -> "AsyncEngine":
        """An engine connected up front, without blocking the event loop.

        Raises:
            DatabaseUnavailableError: the database could not be reached.
        """
        native = _native.Engine.create(*_connect_args(database, llm, config, options))
        await native.connect_async()
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
        tenant_id: Optional[str] = None,
        user: Optional[UserLike] = None,
        *,
        remove_scope: Optional[str] = None,
    ) -> Answer:
        """As :meth:`Engine.ask`."""
        return Answer(
            await self._native.ask_async(
                question, session_id, tenant_id, _user_json(user), remove_scope
            )
        )

    def ask_stream(
        self,
        question: str,
        session_id: Optional[str] = None,
        tenant_id: Optional[str] = None,
        user: Optional[UserLike] = None,
        *,
        remove_scope: Optional[str] = None,
    ) -> AsyncAskStream:
        """As :meth:`Engine.ask_stream`, read with ``async for`` (a plain method: the stream it
        returns is iterated, not awaited)::

            async for event in engine.ask_stream("How many tracks are there per genre?"):
                if event.kind == "stage":
                    print("...", event.stage)
                elif event.kind == "answer":
                    print(event.answer.rows)

        Leaving the loop early, ``await stream.aclose()``, or cancelling the task that awaits
        an event cancels the work that remains, the statement running on the database included.
        """
        return AsyncAskStream(
            self._native.ask_stream(
                question, session_id, tenant_id, _user_json(user), remove_scope
            )
        )

    async def session(
        self,
        session_id: str,
        tenant_id: Optional[str] = None,
        user: Optional[UserLike] = None,
    ) -> Session:
        """As :meth:`Engine.session`."""
        return Session._from_dict(
            await self._native.session_async(session_id, tenant_id, _user_json(user))
        )

    async def reset_session(
        self,
        session_id: str,
        tenant_id: Optional[str] = None,
        user: Optional[UserLike] = None,
    ) -> None:
        """As :meth:`Engine.reset_session`."""
        await self._native.reset_session_async(session_id, tenant_id, _user_json(user))

    async def list_sessions(
        self,
        limit: int = 50,
        tenant_id: Optional[str] = None,
        user: Optional[UserLike] = None,
    ) -> List[SessionSummary]:
        """As :meth:`Engine.list_sessions`."""
        return [
            SessionSummary._from_dict(d)
            for d in await self._native.list_sessions_async(limit, tenant_id, _user_json(user))
        ]

    async def rename_session(
        self,
        session_id: str,
        title: str,
        tenant_id: Optional[str] = None,
        user: Optional[UserLike] = None,
    ) -> Optional[SessionSummary]:
        """As :meth:`Engine.rename_session`."""
        return _summary(
            await self._native.rename_session_async(session_id, title, tenant_id, _user_json(user))
        )

    async def feedback(
        self,
        session_id: str,
        turn: int,
        rating: RatingLike,
        *,
        corrected_sql: Optional[str] = None,
        comment: Optional[str] = None,
        user: Optional[UserLike] = None,
        tenant_id: Optional[str] = None,
    ) -> Feedback:
        """As :meth:`Engine.feedback`."""
        return Feedback._from_dict(
            await self._native.feedback_async(
                session_id, turn, rating, corrected_sql, comment, tenant_id, _user_json(user)
            )
        )

    async def schema(self, user: Optional[UserLike] = None) -> Schema:
        """As :meth:`Engine.schema`."""
        return Schema._from_dict(await self._native.schema_async(_user_json(user)))

    async def health(self) -> Health:
        """As :meth:`Engine.health`."""
        return Health._from_dict(await self._native.health_async())

    def __repr__(self) -> str:
        return _repr(self)


def _repr(engine: Union[Engine, AsyncEngine]) -> str:
    native = getattr(engine, "_native", None)
    described = native.describe() if native is not None else None
    if described is None:  # not connected yet (or the constructor failed)
        return f"<{type(engine).__name__} (not connected)>"
    dialect, database = described
    return f"<{type(engine).__name__} {dialect}:{database}>"


def _summary(d: Optional[Dict[str, Any]]) -> Optional[SessionSummary]:
    """The summary of a renamed conversation; ``None`` when there was none to rename."""
    return None if d is None else SessionSummary._from_dict(d)


def _user_json(user: Optional[UserLike]) -> Optional[str]:
    """``user`` as the JSON text the engine reads (it checks the keys and values and says what
    is wrong); a value JSON cannot hold is an :class:`InvalidInputError` here."""
    if user is None:
        return None
    value: Any = dict(user) if isinstance(user, Mapping) else user
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(
            f"user: {e}; attributes are strings, numbers, booleans or lists of them"
        ) from None


def _connect_args(
    database: Optional[DatabaseLike],
    llm: Optional[LlmLike],
    config: Optional[ConfigLike],
    options: Mapping[str, Any],
) -> _ConnectArgs:
    """The native constructor's arguments: the config path, the option layers as JSON (the
    engine lays each over the ones before it: ``config`` as a dict, ``llm``, ``**options``,
    then ``database`` as a dict), and the database URL."""
    config_path: Optional[str] = None
    layers: List[Mapping[str, Any]] = []
    if isinstance(config, Mapping):
        layers.append(config)
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
        layers.append({"llm": _llm_section(llm)})
    if options:
        layers.append(options)
    url: Any = database
    if isinstance(database, Mapping):
        section = dict(database)
        url = section.pop("url", None)
        layers.append({"database": section})
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
        encoded = json.dumps(layers, default=_json_default) if layers else None
    except (TypeError, ValueError) as e:
        raise ConfigError(f"configuration values must be TOML-like values: {e}") from None
    return config_path, encoded, db


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


def _json_default(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{value!r} ({type(value).__name__}) is not a string, number, bool, list or dict")

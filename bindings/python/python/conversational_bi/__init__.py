"""HeliosDB Conversational BI: ask business questions in plain words, refine them over many
turns, and get back safe read-only SQL, an explanation and the result.

Quick start (no database, no key: the built-in Chinook demo database and the offline generator)::

    from conversational_bi import Engine

    engine = Engine()
    answer = engine.ask("Which 5 artists have the most tracks?")
    print(answer.sql)
    answer = engine.ask("top 3 instead", session_id=answer.session_id)
    df = answer.to_pandas()

``answer.scope`` lists the removable parts of the query (:class:`ScopeItem`);
``engine.ask("", session_id=answer.session_id, remove_scope="limit")`` asks again without one.
:meth:`Engine.list_sessions` and :meth:`Engine.rename_session` list and name a user's
conversations.

Rate an answer with :meth:`Engine.feedback` (``engine.feedback(answer.session_id, answer.turn,
"down", corrected_sql=...)``); the record is kept where ``[feedback]`` says.

Who asks is the ``user=`` argument (a :class:`User` dict): the conversation is theirs, and the
roles of ``[access]`` decide which rows and columns they see::

    engine.ask("How many customers are there?",
               user={"id": "jane", "roles": ["sales_rep"], "attributes": {"employee_id": 3}})

:class:`Engine` blocks (with the GIL released); :class:`AsyncEngine` has the same methods as
coroutines. Errors are subclasses of :class:`ConversationalBIError`.

``ask_stream`` yields the progress of a question, the stages, the SQL and the rows, before the
whole answer (:mod:`conversational_bi.stream`)::

    async for event in AsyncEngine().ask_stream("How many tracks are there per genre?"):
        if event.kind == "stage":
            print("...", event.stage)
        elif event.kind == "answer":
            print(event.answer.rows)
"""

from __future__ import annotations

from ._native import __version__
from .answer import Answer, Attempt, Chart, Clarification, ClarificationOption, Column, ScopeItem
from .engine import DEFAULT_TENANT, AsyncEngine, Engine, UserLike
from .exceptions import (
    ERROR_CODES,
    CannotAnswerError,
    CircuitOpenError,
    ConfigError,
    ConversationalBIError,
    DatabaseUnavailableError,
    ExecutionError,
    InternalError,
    InvalidInputError,
    ProviderError,
    QueryTimeoutError,
    RateLimitedError,
    ServiceUnavailableError,
    SqlRejectedError,
)
from .models import (
    Feedback,
    ForeignKey,
    Health,
    Schema,
    SchemaColumn,
    Session,
    SessionSummary,
    Table,
    TenantHealth,
    Turn,
    User,
)
from .stream import (
    AnswerEvent,
    AskEvent,
    AskStream,
    AsyncAskStream,
    RowsEvent,
    SqlEvent,
    StageEvent,
)

__all__ = [
    "__version__",
    "Engine",
    "AsyncEngine",
    "DEFAULT_TENANT",
    "User",
    "UserLike",
    "Answer",
    "Column",
    "Attempt",
    "Chart",
    "Clarification",
    "ClarificationOption",
    "ScopeItem",
    "AskEvent",
    "StageEvent",
    "SqlEvent",
    "RowsEvent",
    "AnswerEvent",
    "AskStream",
    "AsyncAskStream",
    "Session",
    "SessionSummary",
    "Turn",
    "Feedback",
    "Health",
    "TenantHealth",
    "Schema",
    "Table",
    "SchemaColumn",
    "ForeignKey",
    "ConversationalBIError",
    "ConfigError",
    "InvalidInputError",
    "SqlRejectedError",
    "DatabaseUnavailableError",
    "ExecutionError",
    "QueryTimeoutError",
    "ProviderError",
    "CannotAnswerError",
    "RateLimitedError",
    "CircuitOpenError",
    "ServiceUnavailableError",
    "InternalError",
    "ERROR_CODES",
]

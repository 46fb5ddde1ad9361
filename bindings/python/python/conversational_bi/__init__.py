"""HeliosDB Conversational BI: ask business questions in plain words, refine them over many
turns, and get back safe read-only SQL, an explanation and the result.

Quick start (no database, no key: the built-in Chinook demo database and the offline generator)::

    from conversational_bi import Engine

    engine = Engine()
    answer = engine.ask("Which 5 artists have the most tracks?")
    print(answer.sql)
    answer = engine.ask("top 3 instead", session_id=answer.session_id)
    df = answer.to_pandas()

Rate an answer with :meth:`Engine.feedback` (``engine.feedback(answer.session_id, answer.turn,
"down", corrected_sql=...)``); the record is kept where ``[feedback]`` says.

Who asks is the ``user=`` argument (a :class:`User` dict): the conversation is theirs, and the
roles of ``[access]`` decide which rows and columns they see::

    engine.ask("How many customers are there?",
               user={"id": "jane", "roles": ["sales_rep"], "attributes": {"employee_id": 3}})

:class:`Engine` blocks (with the GIL released); :class:`AsyncEngine` has the same methods as
coroutines. Errors are subclasses of :class:`ConversationalBIError`.
"""

from __future__ import annotations

from ._native import __version__
from .answer import Answer, Attempt, Chart, Clarification, ClarificationOption, Column
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
    Table,
    TenantHealth,
    Turn,
    User,
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
    "Session",
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

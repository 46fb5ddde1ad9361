"""Exceptions raised by the engine.

Every error the engine reports is a :class:`ConversationalBIError`. Each kind of failure has its
own subclass, named after the engine's stable error code (``error.code``); the message is the
engine's own and says what went wrong and what to do. Structured details are attributes::

    try:
        engine.ask("Which 5 artists have the most tracks?")
    except RateLimitedError as e:
        time.sleep(e.retry_after)
    except SqlRejectedError as e:
        print(e.rule, e.reason, e.sql)
    except ConversationalBIError as e:
        print(e.code, e)

Some classes also derive from the matching built-in exception, so that generic handlers work:
:class:`ConfigError` and :class:`InvalidInputError` are ``ValueError``\\ s,
:class:`QueryTimeoutError` is a ``TimeoutError``, :class:`DatabaseUnavailableError` and
:class:`ServiceUnavailableError` are ``ConnectionError``\\ s.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Type

__all__ = [
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


class ConversationalBIError(Exception):
    """Base class of every error of the engine.

    Attributes:
        message: the engine's message (also ``str(error)``).
        code: the stable error code, e.g. ``"SQL_REJECTED"``.
        retryable: whether the same request may succeed if tried again later, unchanged.
        retry_after: seconds to wait before trying again, when the engine says (rate limits,
            an open circuit breaker, a provider's ``Retry-After``); otherwise ``None``.
    """

    #: The stable code of this class of errors (``"UNKNOWN"`` only for a kind that this version
    #: of the package does not know yet; ``error.code`` still carries the engine's code).
    code: str = "UNKNOWN"
    retryable: bool = False
    retry_after: Optional[float] = None

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        for name, value in details.items():
            setattr(self, name, value)

    def __str__(self) -> str:
        return self.message


class ConfigError(ConversationalBIError, ValueError):
    """The configuration (file, options or environment) is invalid.

    Attributes:
        key: the offending key as a dotted path (``"server.port"``), when known.
        file: the configuration file, when the error came from one.
        line: the 1-based line in that file, when known.
    """

    code = "CONFIG"
    key: Optional[str] = None
    file: Optional[str] = None
    line: Optional[int] = None


class InvalidInputError(ConversationalBIError, ValueError):
    """The question is unusable (empty, too long, control characters, ...)."""

    code = "INVALID_INPUT"


class SqlRejectedError(ConversationalBIError):
    """The SQL validator refused the generated statement; nothing reached the database.

    Attributes:
        sql: the statement as generated.
        rule: the validator rule that refused it (stable, snake_case, e.g. ``"not_a_query"``).
        reason: why, in words a person can act on.
    """

    code = "SQL_REJECTED"
    sql: str = ""
    rule: str = ""
    reason: str = ""


class DatabaseUnavailableError(ConversationalBIError, ConnectionError):
    """The database could not be reached."""

    code = "DATABASE_UNAVAILABLE"


class ExecutionError(ConversationalBIError):
    """The database refused or failed the statement."""

    code = "EXECUTION"


class QueryTimeoutError(ConversationalBIError, TimeoutError):
    """The statement ran longer than ``[database] statement_timeout_ms`` and was cancelled.

    Attributes:
        timeout_ms: the timeout that was exceeded.
    """

    code = "TIMEOUT"
    timeout_ms: Optional[int] = None


class ProviderError(ConversationalBIError):
    """The LLM provider failed or answered with something unusable.

    Attributes:
        provider: ``"openai"``, ``"anthropic"``, ``"cohere"``, ``"ollama"`` or ``"model"``.
        status: the HTTP status, when the provider answered.
        request_id: the provider's request id, when it sent one.
    """

    code = "PROVIDER"
    provider: str = ""
    status: Optional[int] = None
    request_id: Optional[str] = None


class CannotAnswerError(ConversationalBIError):
    """The offline generator did not understand the question and abstained rather than guess.

    Attributes:
        unknown_words: the words of the question that it could not place.
    """

    code = "CANNOT_ANSWER"
    unknown_words: Sequence[str] = ()


class RateLimitedError(ConversationalBIError):
    """The tenant asked more often than its quota allows.

    Attributes:
        tenant_id: the tenant whose quota is spent.
        retry_after: seconds until a request will be admitted.
    """

    code = "RATE_LIMITED"
    tenant_id: str = ""


class CircuitOpenError(ConversationalBIError):
    """The circuit breaker around the LLM provider is open and no fallback is configured.

    Attributes:
        service: the protected service (``"nl2sql"``).
        retry_after: seconds until the breaker lets a probe through.
    """

    code = "CIRCUIT_OPEN"
    service: str = ""


class ServiceUnavailableError(ConversationalBIError, ConnectionError):
    """A shared service the engine needs (Redis, ...) is unreachable.

    Attributes:
        service: the service (``"redis"``, ...).
    """

    code = "SERVICE_UNAVAILABLE"
    service: str = ""


class InternalError(ConversationalBIError):
    """A bug or an unexpected state inside the engine."""

    code = "INTERNAL"


#: The exception class of each stable error code.
ERROR_CODES: Dict[str, Type[ConversationalBIError]] = {
    cls.code: cls
    for cls in (
        ConfigError,
        InvalidInputError,
        SqlRejectedError,
        DatabaseUnavailableError,
        ExecutionError,
        QueryTimeoutError,
        ProviderError,
        CannotAnswerError,
        RateLimitedError,
        CircuitOpenError,
        ServiceUnavailableError,
        InternalError,
    )
}

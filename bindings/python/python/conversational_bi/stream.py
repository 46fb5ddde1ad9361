"""An answer as it is worked out: the events of :meth:`Engine.ask_stream` and
:meth:`AsyncEngine.ask_stream`.

The events come in the order the engine reaches them: :class:`StageEvent`\\ s as the stages
begin, then the :class:`SqlEvent` and the :class:`RowsEvent` once the statement has run, then
the :class:`AnswerEvent` last, with the whole answer (what ``ask`` returns)::

    async for event in engine.ask_stream("Which 5 artists have the most tracks?"):
        if event.kind == "stage":
            print("...", event.stage)
        elif event.kind == "sql":
            print(event.sql)
        elif event.kind == "rows":
            print(len(event.rows), "rows")
        elif event.kind == "answer":
            answer = event.answer

A question that fails raises, from the loop, the exception ``ask`` would raise (a
:class:`~conversational_bi.ConversationalBIError` subclass chosen by the error's code), after the
events that came before it, with the fields ``ask``'s exception has (``code``, ``message``,
``retryable``, ``retry_after`` and the per-kind ones: ``sql``, ``rule``, ``unknown_words``, ...).

Leaving the loop early (``break``, an exception) drops the stream, which cancels the work that
remains, the statement running on the database included. A stream kept in a variable is
cancelled when it is closed (``close()`` / ``await aclose()``, or a ``with`` / ``async with``
block) or garbage-collected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, List, Literal, Optional, Tuple, Union

from .answer import Answer, Column
from .exceptions import ERROR_CODES, ConversationalBIError, InternalError

if TYPE_CHECKING:  # pragma: no cover
    from . import _native

__all__ = [
    "AskEvent",
    "StageEvent",
    "SqlEvent",
    "RowsEvent",
    "AnswerEvent",
    "AskStream",
    "AsyncAskStream",
]


@dataclass(frozen=True)
class StageEvent:
    """A stage of the pipeline began: ``guard``, ``session``, ``verified``, ``cache``,
    ``generate``, ``insight``, ``save``, ``suggest`` (the names of :attr:`Answer.timings`)."""

    stage: str
    kind: Literal["stage"] = field(default="stage", init=False)


@dataclass(frozen=True)
class SqlEvent:
    """The statement that answers, as the validator passed it and the database ran it."""

    sql: str
    kind: Literal["sql"] = field(default="sql", init=False)


@dataclass(frozen=True)
class RowsEvent:
    """The result: its columns, its rows (values as in :attr:`Answer.rows`) and whether
    ``[database] max_rows`` cut it."""

    columns: List[Column]
    rows: List[Tuple[Any, ...]]
    truncated: bool
    kind: Literal["rows"] = field(default="rows", init=False)


@dataclass(frozen=True)
class AnswerEvent:
    """The whole answer, as ``ask`` returns it: the last event of a question answered (or of a
    clarification asked)."""

    answer: Answer
    kind: Literal["answer"] = field(default="answer", init=False)


#: One event of a question; ``event.kind`` tells which (and narrows the type for type checkers).
AskEvent = Union[StageEvent, SqlEvent, RowsEvent, AnswerEvent]

# The codes whose errors may succeed when tried again, unchanged (as `ask`'s exceptions say).
_RETRYABLE = frozenset({"DATABASE_UNAVAILABLE", "RATE_LIMITED", "CIRCUIT_OPEN", "SERVICE_UNAVAILABLE"})


class AskStream:
    """The events of one question, read by a blocking iterator (:meth:`Engine.ask_stream`)::

        for event in engine.ask_stream("How many tracks are there per genre?"):
            ...

    Each step blocks with the GIL released. Closing the stream (:meth:`close`, the end of a
    ``with`` block, or dropping it) cancels the work that remains.
    """

    __slots__ = ("_native",)

    def __init__(self, native: _native.AskStream) -> None:
        self._native = native

    def __iter__(self) -> AskStream:
        return self

    def __next__(self) -> AskEvent:
        item = self._native.next()
        if item is None:
            raise StopIteration
        return _event(item)

    def close(self) -> None:
        """Cancels the work that remains (the statement running on the database included);
        the iteration ends. Closing a finished stream does nothing."""
        self._native.close()

    def __enter__(self) -> AskStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncAskStream:
    """The events of one question, read by an asynchronous iterator
    (:meth:`AsyncEngine.ask_stream`)::

        async for event in engine.ask_stream("How many tracks are there per genre?"):
            ...

    Closing the stream (:meth:`aclose`, the end of an ``async with`` block, or dropping it)
    cancels the work that remains; so does cancelling the task that awaits an event.
    """

    __slots__ = ("_native",)

    def __init__(self, native: _native.AskStream) -> None:
        self._native = native

    def __aiter__(self) -> AsyncAskStream:
        return self

    async def __anext__(self) -> AskEvent:
        item = await self._native.next_async()
        if item is None:
            raise StopAsyncIteration
        return _event(item)

    async def aclose(self) -> None:
        """Cancels the work that remains (the statement running on the database included);
        the iteration ends. Closing a finished stream does nothing."""
        self._native.close()

    async def __aenter__(self) -> AsyncAskStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _event(item: Tuple[str, Any]) -> AskEvent:
    """The event of the extension's ``(kind, value)`` pair; raises a question's error."""
    kind, value = item
    if kind == "stage":
        return StageEvent(value)
    if kind == "sql":
        return SqlEvent(value)
    if kind == "rows":
        columns, rows, truncated = value
        return RowsEvent([Column(name, type_) for name, type_ in columns], rows, truncated)
    if kind == "answer":
        return AnswerEvent(Answer(value))
    if kind == "error":
        code, message, retry_after = value
        raise _error(code, message, retry_after)
    raise InternalError(f"unknown event {kind!r} from the engine; upgrade the package")


def _error(code: str, message: str, retry_after: Optional[int]) -> ConversationalBIError:
    """The exception ``ask`` raises for an error of ``code`` (its class, message, ``code``,
    ``retryable`` and ``retry_after``)."""
    cls = ERROR_CODES.get(code, ConversationalBIError)
    retryable = code in _RETRYABLE or (code == "PROVIDER" and retry_after is not None)
    return cls(
        message,
        code=code,
        retryable=retryable,
        retry_after=None if retry_after is None else float(retry_after),
    )

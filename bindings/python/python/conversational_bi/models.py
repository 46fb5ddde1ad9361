"""Plain records: who asks (:class:`User`), and what the engine returns: conversations,
feedback, the schema and health."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, TypedDict, Union

__all__ = [
    "User",
    "Turn",
    "Session",
    "SessionSummary",
    "Feedback",
    "Health",
    "TenantHealth",
    "Schema",
    "Table",
    "SchemaColumn",
    "ForeignKey",
]

#: The value of a user attribute: what a row filter can compare with.
AttributeValue = Union[str, int, float, bool, List[Union[str, int, float, bool]]]


class User(TypedDict, total=False):
    """Who asks a question: the ``user=`` argument of ``ask``, ``session``, ``reset_session``,
    ``list_sessions``, ``rename_session`` and ``schema``. A plain dict; every key is optional::

        engine.ask("How many customers are there?",
                   user={"id": "jane", "roles": ["sales_rep"], "attributes": {"employee_id": 3}})

    Keys:
        id: the user; the conversation belongs to them, and no other user can read, continue
            or reset it.
        tenant: the user's tenant (or pass ``tenant_id=``; naming two different tenants is an
            error).
        roles: roles of ``[access.roles]`` in the configuration; their policies decide which
            tables, rows and columns the user's answers may show.
        attributes: what the roles' row filters read as ``{user.<name>}``: strings, numbers,
            booleans or lists of them.
    """

    id: str
    tenant: str
    roles: List[str]
    attributes: Dict[str, AttributeValue]


@dataclass(frozen=True)
class Turn:
    """One question of a conversation: answered, answered with a question back, or not answered
    (then ``sql`` is empty and ``explanation`` says why)."""

    turn: int
    question: str
    sql: str
    explanation: str
    columns: List[str]
    row_count: int
    generator: str
    at: str
    """When the turn was answered (RFC 3339, UTC)."""

    @classmethod
    def _from_dict(cls, d: Dict[str, Any]) -> "Turn":
        return cls(
            turn=d["turn"],
            question=d["question"],
            sql=d["sql"],
            explanation=d["explanation"],
            columns=list(d["columns"]),
            row_count=d["row_count"],
            generator=d["generator"],
            at=d["at"],
        )


@dataclass(frozen=True)
class Session:
    """The state of one conversation: its most recent turns, oldest first."""

    tenant_id: str
    session_id: str
    turns: List[Turn]
    turn_count: int
    """Turns answered over the whole life of the session, including those no longer kept."""
    user_id: Optional[str] = None
    """The user who owns the conversation; ``None`` for the engine's default user."""

    @classmethod
    def _from_dict(cls, d: Dict[str, Any]) -> "Session":
        return cls(
            tenant_id=d["tenant_id"],
            session_id=d["session_id"],
            turns=[Turn._from_dict(t) for t in d["turns"]],
            turn_count=d["turn_count"],
            user_id=d.get("user_id"),
        )


@dataclass(frozen=True)
class SessionSummary:
    """What a list of conversations (a sidebar) shows of one of them
    (:meth:`Engine.list_sessions <conversational_bi.Engine.list_sessions>`)."""

    session_id: str
    """The session id: pass it to ``ask``, ``session``, ``rename_session`` or ``reset_session``."""
    title: str
    """The title given with ``rename_session``, else the conversation's first question (at most
    80 characters of it)."""
    created_at: str
    """When its first turn was answered (RFC 3339, UTC)."""
    updated_at: str
    """When its last turn was answered (RFC 3339, UTC); lists are ordered by it, newest first."""
    turn_count: int
    """Turns answered over the whole life of the conversation."""

    @classmethod
    def _from_dict(cls, d: Dict[str, Any]) -> "SessionSummary":
        return cls(
            session_id=d["session_id"],
            title=d["title"],
            created_at=d["created_at"],
            updated_at=d["updated_at"],
            turn_count=d["turn_count"],
        )


@dataclass(frozen=True)
class Feedback:
    """A stored feedback record: a user's rating of one turn of their conversation
    (:meth:`Engine.feedback <conversational_bi.Engine.feedback>`)."""

    id: str
    """Its id (a UUID)."""
    tenant_id: str
    user_id: str
    """The user who gave it (``""`` for the engine's default user)."""
    session_id: str
    turn: int
    rating: str
    """``"up"`` or ``"down"``."""
    question: str
    """The turn's question, read from the conversation."""
    sql: str
    """The turn's SQL: the answer rated."""
    status: str
    """``"new"``, then ``"promoted"`` or ``"dismissed"`` once an admin acted on it."""
    created_at: str
    """When it was given (RFC 3339, UTC)."""
    corrected_sql: Optional[str] = None
    """The user's corrected SQL, validated under their data permissions."""
    comment: Optional[str] = None

    @classmethod
    def _from_dict(cls, d: Dict[str, Any]) -> "Feedback":
        return cls(
            id=d["id"],
            tenant_id=d["tenant_id"],
            user_id=d["user_id"],
            session_id=d["session_id"],
            turn=d["turn"],
            rating=d["rating"],
            question=d["question"],
            sql=d["sql"],
            status=d["status"],
            created_at=d["created_at"],
            corrected_sql=d.get("corrected_sql"),
            comment=d.get("comment"),
        )


@dataclass(frozen=True)
class TenantHealth:
    """The health of one ``[tenants.<id>]`` database. A tenant's pool opens at its first
    question, so a tenant nobody has asked for yet is not open and is not pinged."""

    tenant_id: str
    open: bool
    """Whether the tenant's pool is open now."""
    database: Optional[bool] = None
    """Whether the database answered; ``None`` when the pool is not open (it is not pinged)."""
    error: Optional[str] = None
    """What failed: the ping of an open pool, or the last connection attempt when it failed."""
    dialect: Optional[str] = None
    """``"sqlite"``, ``"postgres"`` or ``"mysql"``: the connected database's, else the URL's."""

    @classmethod
    def _from_dict(cls, d: Dict[str, Any]) -> "TenantHealth":
        return cls(
            tenant_id=d["tenant_id"],
            open=d["open"],
            database=d.get("database"),
            error=d.get("error"),
            dialect=d.get("dialect"),
        )


@dataclass(frozen=True)
class Health:
    """The engine's health: ``status`` is ``"ok"`` when every check passed, else
    ``"degraded"``."""

    status: str
    version: str
    database: bool
    generator: str
    database_error: Optional[str] = None
    tenants: List[TenantHealth] = field(default_factory=list)
    """The database of each ``[tenants.<id>]``, in the order of their ids (empty without
    tenants); a tenant whose database is down makes the status ``"degraded"``."""

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return self.status == "ok"

    @classmethod
    def _from_dict(cls, d: Dict[str, Any]) -> "Health":
        return cls(
            status=d["status"],
            version=d["version"],
            database=d["database"],
            generator=d["generator"],
            database_error=d.get("database_error"),
            tenants=[TenantHealth._from_dict(t) for t in d.get("tenants", [])],
        )


@dataclass(frozen=True)
class SchemaColumn:
    """A column of a table or view, with its declared SQL type."""

    name: str
    data_type: str
    nullable: bool
    comment: Optional[str] = None


@dataclass(frozen=True)
class ForeignKey:
    """``columns`` of the owning table reference ``referenced_columns`` of another table."""

    columns: List[str]
    referenced_table: str
    referenced_columns: List[str]
    referenced_schema: Optional[str] = None


@dataclass(frozen=True)
class Table:
    """A table or view (``kind`` is ``"table"`` or ``"view"``)."""

    name: str
    kind: str
    columns: List[SchemaColumn]
    primary_key: List[str] = field(default_factory=list)
    foreign_keys: List[ForeignKey] = field(default_factory=list)
    schema: Optional[str] = None
    comment: Optional[str] = None

    @property
    def qualified_name(self) -> str:
        """``schema.name`` where the table has a schema, else ``name``."""
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @classmethod
    def _from_dict(cls, d: Dict[str, Any]) -> "Table":
        return cls(
            name=d["name"],
            kind=d["kind"],
            columns=[SchemaColumn(**c) for c in d["columns"]],
            primary_key=list(d.get("primary_key", [])),
            foreign_keys=[ForeignKey(**fk) for fk in d.get("foreign_keys", [])],
            schema=d.get("schema"),
            comment=d.get("comment"),
        )


@dataclass(frozen=True)
class Schema:
    """What the engine sees of the database: its tables and views."""

    dialect: str
    """``"sqlite"``, ``"postgres"`` or ``"mysql"``."""
    database: str
    tables: List[Table]
    fingerprint: str
    """A short hash that changes whenever the schema changes."""

    def table(self, name: str) -> Table:
        """The table called ``name`` (case-insensitive; ``schema.name`` also works).

        Raises:
            KeyError: no such table; the message lists the tables.
        """
        wanted = name.lower()
        for t in self.tables:
            if t.name.lower() == wanted or t.qualified_name.lower() == wanted:
                return t
        raise KeyError(
            f"no table {name!r} in {self.database}; tables: "
            + ", ".join(t.qualified_name for t in self.tables)
        )

    @classmethod
    def _from_dict(cls, d: Dict[str, Any]) -> "Schema":
        return cls(
            dialect=d["dialect"],
            database=d["database"],
            tables=[Table._from_dict(t) for t in d["tables"]],
            fingerprint=d["fingerprint"],
        )

"""Who asks: the `user=` argument of `ask`, `session`, `reset_session` and `schema`, blocking and
as a coroutine. Conversations belong to their user, a bad `user` is an `InvalidInputError` that
says what is wrong, and the roles of `[access]` decide which rows and columns an answer and a
schema show."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path
from typing import Any, Dict

import pytest
from conftest import CHINOOK_SQLITE, Twin
from fake_openai import FakeOpenAI, sql_reply

import conversational_bi as cbi

TOP5 = [("Iron Maiden", 213), ("U2", 135), ("Led Zeppelin", 114), ("Metallica", 112), ("Deep Purple", 92)]

#: The `sales_rep` role of the README's "Data permissions" example: a sales rep sees the
#: customers they support, with emails hashed and phones hidden.
ACCESS: Dict[str, Any] = {
    "roles": {
        "sales_rep": {
            "row_filters": {"Customer": "SupportRepId = {user.employee_id}"},
            "columns": {"Customer.Email": "hash", "Customer.Phone": "null"},
        }
    }
}

#: The roles of the schema tests: a sales rep sees the customers they support and not the
#: employees' birth dates; HR sees every table whole.
SCHEMA_ACCESS: Dict[str, Any] = {
    "roles": {
        "sales_rep": {
            "row_filters": {"Customer": "SupportRepId = {user.employee_id}"},
            "columns": {"Employee.BirthDate": "deny"},
        },
        "hr": {},
    }
}


def rep(employee_id: int) -> cbi.User:
    return {"id": f"rep-{employee_id}", "roles": ["sales_rep"], "attributes": {"employee_id": employee_id}}


def test_a_conversation_belongs_to_its_user(twin: Twin) -> None:
    bob = twin.ask("Which 5 artists have the most tracks?", user={"id": "bob"})
    # Alice holds Bob's session id, but his conversation is not hers: she has nothing to refine.
    # Her question stays in her own conversation, unanswered.
    with pytest.raises(cbi.CannotAnswerError):
        twin.ask("top 3 instead", session_id=bob.session_id, user={"id": "alice"})
    alice = twin.ask("How many genres are there?", session_id=bob.session_id, user={"id": "alice"})
    assert (alice.session_id, alice.turn, alice.rows) == (bob.session_id, 2, [(25,)])
    # Bob's conversation goes on where he left it.
    again = twin.ask("top 3 instead", session_id=bob.session_id, user={"id": "bob"})
    assert (again.turn, again.rows) == (2, TOP5[:3])

    state = twin.session(bob.session_id, user={"id": "bob"})
    assert state.user_id == "bob" and state.tenant_id == "default"
    assert [t.question for t in state.turns] == ["Which 5 artists have the most tracks?", "top 3 instead"]
    hers = twin.session(bob.session_id, user={"id": "alice"}).turns
    assert [t.question for t in hers] == ["top 3 instead", "How many genres are there?"]
    assert hers[0].sql == "" and "cannot answer" in hers[0].explanation
    assert twin.session(bob.session_id).turns == []  # nor is it the default user's

    # Alice forgetting her conversation leaves Bob's alone.
    twin.reset_session(bob.session_id, user={"id": "alice"})
    assert twin.session(bob.session_id, user={"id": "alice"}).turns == []
    assert twin.session(bob.session_id, user={"id": "bob"}).turn_count == 2


def test_the_tenant_comes_from_the_user_or_tenant_id(twin: Twin) -> None:
    a = twin.ask("How many artists are there?", user={"id": "ana", "tenant": "acme"})
    b = twin.ask("How many albums are there?", session_id=a.session_id, tenant_id="acme", user={"id": "ana"})
    c = twin.ask(
        "How many genres are there?",
        session_id=a.session_id,
        tenant_id="acme",
        user={"id": "ana", "tenant": "acme"},
    )
    assert (a.turn, b.turn, c.turn) == (1, 2, 3)
    state = twin.session(a.session_id, user={"id": "ana", "tenant": "acme"})
    assert (state.tenant_id, state.user_id, state.turn_count) == ("acme", "ana", 3)
    assert twin.session(a.session_id, tenant_id="acme", user={"id": "ana"}).turn_count == 3
    assert twin.session(a.session_id, user={"id": "ana"}).turns == []  # the default tenant's

    with pytest.raises(cbi.InvalidInputError) as caught:
        twin.ask("How many artists are there?", tenant_id="globex", user={"id": "ana", "tenant": "acme"})
    assert "tenant `acme` differs from tenant_id=`globex`" in str(caught.value)
    with pytest.raises(cbi.InvalidInputError, match="differs from tenant_id"):
        twin.session(a.session_id, tenant_id="globex", user={"tenant": "acme"})
    with pytest.raises(cbi.InvalidInputError, match="differs from tenant_id"):
        twin.reset_session(a.session_id, tenant_id="globex", user={"tenant": "acme"})
    assert twin.session(a.session_id, tenant_id="acme", user={"id": "ana"}).turn_count == 3


@pytest.mark.parametrize(
    "user, message",
    [
        ("jane", "user: expected an object"),
        (["jane"], "user: expected an object"),
        ({"id": 7}, "`id` must be a string"),
        ({"roles": "sales_rep"}, "`roles` must be a list of strings"),
        ({"roles": ["sales_rep", 3]}, "`roles` must be a list of strings"),
        ({"attributes": ["employee_id", 3]}, "`attributes` must be an object"),
        (
            {"attributes": {"region": {"name": "EU"}}},
            "attribute `region` must be a string, a number, a boolean or a list of them",
        ),
        ({"name": "Jane"}, "unknown key `name`"),
        ({"attributes": {"since": datetime.date(2024, 1, 1)}}, "user: Object of type date is not JSON serializable"),
        ({"attributes": {"quota": float("nan")}}, "user: Out of range float values are not JSON compliant"),
    ],
    ids=["string", "list", "id", "roles", "role", "attributes", "nested", "unknown", "date", "nan"],
)
def test_a_bad_user_is_invalid_input(twin: Twin, user: Any, message: str) -> None:
    for call in (
        lambda: twin.ask("How many artists are there?", user=user),
        lambda: twin.session("some-session", user=user),
        lambda: twin.reset_session("some-session", user=user),
        lambda: twin.schema(user=user),
    ):
        with pytest.raises(cbi.InvalidInputError) as caught:
            call()
        e = caught.value
        assert isinstance(e, ValueError) and e.code == "INVALID_INPUT" and not e.retryable
        assert message in str(e), str(e)


def test_a_user_is_a_typed_dict() -> None:
    user: cbi.User = {"id": "jane", "roles": ["sales_rep"], "attributes": {"employee_id": 3, "regions": ["EU"]}}
    assert user == dict(user)
    assert set(cbi.User.__annotations__) == {"id", "tenant", "roles", "attributes"}


def test_a_sales_rep_sees_only_their_customers(mode: str) -> None:
    twin = Twin(mode, access=ACCESS)
    try:
        counts = {
            employee: twin.ask("How many customers are there?", user=rep(employee)).rows
            for employee in (3, 4, 5)
        }
        assert counts == {3: [(21,)], 4: [(20,)], 5: [(18,)]}
        jane = twin.ask(
            "how many customers are there",
            user={"id": "jane", "roles": ["sales_rep"], "attributes": {"employee_id": 3}},
        )
        assert jane.rows == [(21,)]
        # With roles configured, a user without a known role reads nothing, and is told so.
        for nobody in (None, {"id": "nobody"}, {"id": "intern", "roles": ["intern"]}):
            with pytest.raises(cbi.InvalidInputError) as caught:
                twin.ask("How many customers are there?", user=nobody)
            assert "role" in str(caught.value), str(caught.value)
    finally:
        twin.close()


def test_a_sales_rep_sees_hashed_emails_and_no_phones(mode: str) -> None:
    sql = "SELECT CustomerId, Email, Phone FROM Customer ORDER BY CustomerId"
    with FakeOpenAI(lambda r: sql_reply(sql)) as model:
        twin = Twin(mode, llm=model.llm(max_retries=0, fallback="none"), access=ACCESS)
        try:
            jane = twin.ask("The contacts of my customers", user=rep(3))
            assert jane.row_count == 21
            emails = [row[1] for row in jane.rows]
            assert all(isinstance(e, str) and e and "@" not in e for e in emails), emails
            assert len(set(emails)) == 21  # a keyed hash: distinct emails stay distinct
            assert all(row[2] is None for row in jane.rows)
            # The same email hashes alike in every answer of the engine.
            again = twin.ask("The contacts of my customers, again", user=rep(3))
            assert again.rows == jane.rows
        finally:
            twin.close()


def employee_columns(schema: cbi.Schema) -> set[str]:
    return {c.name for c in schema.table("Employee").columns}


def test_a_users_schema_leaves_out_the_columns_their_roles_deny(mode: str) -> None:
    twin = Twin(mode, access=SCHEMA_ACCESS)
    try:
        hr = twin.schema(user={"id": "hannah", "roles": ["hr"]})
        assert isinstance(hr, cbi.Schema)
        assert "BirthDate" in employee_columns(hr)
        mine = twin.schema(user=rep(3))
        assert "BirthDate" not in employee_columns(mine)
        assert employee_columns(mine) == employee_columns(hr) - {"BirthDate"}
        # Only the denied column is left out: every table and the other columns are there.
        assert [t.name for t in mine.tables] == [t.name for t in hr.tables]
        assert {c.name for c in mine.table("Customer").columns} == {c.name for c in hr.table("Customer").columns}
        # Without a user, the engine's own schema, as before users existed.
        assert "BirthDate" in employee_columns(twin.schema())
        # With roles configured, a user without a known role may see no table, and is told so.
        for nobody in ({"id": "nobody"}, {"id": "intern", "roles": ["intern"]}):
            with pytest.raises(cbi.InvalidInputError) as caught:
                twin.schema(user=nobody)
            e = caught.value
            assert e.code == "INVALID_INPUT" and not e.retryable
            assert "role" in str(e), str(e)
    finally:
        twin.close()


def test_a_users_schema_is_that_of_their_tenants_database(mode: str, tmp_path: Path) -> None:
    acme = tmp_path / "acme.sqlite"
    shutil.copyfile(CHINOOK_SQLITE, acme)
    twin = Twin(mode, access=SCHEMA_ACCESS, tenants={"acme": {"database_url": f"sqlite://{acme}"}})
    try:
        # Nobody has asked for acme yet: its pool is not open, and not pinged.
        assert twin.health().tenants == [cbi.TenantHealth(tenant_id="acme", open=False, dialect="sqlite")]
        hr = twin.schema(user={"id": "hannah", "tenant": "acme", "roles": ["hr"]})
        assert (hr.database, "BirthDate" in employee_columns(hr)) == ("acme", True)
        mine = twin.schema(user={**rep(3), "tenant": "acme"})
        assert (mine.database, "BirthDate" in employee_columns(mine)) == ("acme", False)
        assert twin.schema(user=rep(3)).database.startswith("chinook")  # the demo database: the default tenant's
        health = twin.health()
        assert health.ok
        assert health.tenants == [cbi.TenantHealth(tenant_id="acme", open=True, database=True, dialect="sqlite")]
    finally:
        twin.close()

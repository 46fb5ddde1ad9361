"""Who asks: the `user` argument (a `Principal` record) of `ask`, `session`, `reset_session` and
`schema`. Conversations belong to their user, a bad `Principal` is `InvalidInput` with the
reason, and the roles of `[access]` decide which rows and columns an answer and a schema show."""

import os
import shutil

import pytest
from conftest import CHINOOK_SQLITE, failure, model_toml, plain, rows, run, writes

from conversational_bi_ffi import ConversationalBiError as E
from conversational_bi_ffi import Engine, Principal, TenantHealth, error_code

TOP5 = [("Iron Maiden", 213), ("U2", 135), ("Led Zeppelin", 114), ("Metallica", 112), ("Deep Purple", 92)]

#: The `sales_rep` role of the README's "Data permissions" example.
ACCESS = """
[access.roles.sales_rep]
row_filters = { Customer = "SupportRepId = {user.employee_id}" }
columns = { "Customer.Email" = "hash", "Customer.Phone" = "null" }
"""

#: The roles of the schema tests: a sales rep sees the customers they support and not the
#: employees' birth dates; HR sees every table whole.
SCHEMA_ACCESS = """
[access.roles.sales_rep]
row_filters = { Customer = "SupportRepId = {user.employee_id}" }
columns = { "Employee.BirthDate" = "deny" }
[access.roles.hr]
"""


def rep(employee_id):
    return Principal(user_id=f"rep-{employee_id}", roles=["sales_rep"], attributes_json=f'{{"employee_id": {employee_id}}}')


def test_a_principal_has_defaults():
    p = Principal()
    assert (p.user_id, p.tenant_id, p.roles, p.attributes_json) == (None, None, [], None)


def test_a_conversation_belongs_to_its_user():
    async def body():
        engine = Engine()
        bob, alice = Principal(user_id="bob"), Principal(user_id="alice")
        first = await engine.ask("Which 5 artists have the most tracks?", user=bob)
        sid = first.session_id
        # Alice holds Bob's session id, but his conversation is not hers: nothing to refine.
        # Her question stays in her own conversation, unanswered.
        e = await failure(engine.ask("top 3 instead", session_id=sid, user=alice))
        assert isinstance(e, E.CannotAnswer)
        hers = await engine.ask("How many genres are there?", session_id=sid, user=alice)
        assert (hers.session_id, hers.turn, rows(hers)) == (sid, 2, [(25,)])
        again = await engine.ask("top 3 instead", session_id=sid, user=bob)
        assert (again.turn, rows(again)) == (2, TOP5[:3])

        state = await engine.session(sid, user=bob)
        assert (state.tenant_id, state.user_id, state.turn_count) == ("default", "bob", 2)
        assert [(t.question, t.sql == "") for t in (await engine.session(sid, user=alice)).turns] == [
            ("top 3 instead", True),
            ("How many genres are there?", False),
        ]
        mine = await engine.session(sid)
        assert (mine.turns, mine.user_id) == ([], None)

        await engine.reset_session(sid, user=alice)
        assert (await engine.session(sid, user=alice)).turns == []
        assert (await engine.session(sid, user=bob)).turn_count == 2

    run(body())


def test_the_tenant_comes_from_the_user_or_the_argument():
    async def body():
        engine = Engine()
        ana = Principal(user_id="ana", tenant_id="acme")
        a = await engine.ask("How many artists are there?", user=ana)
        b = await engine.ask("How many albums are there?", session_id=a.session_id, tenant_id="acme", user=Principal(user_id="ana"))
        c = await engine.ask("How many genres are there?", session_id=a.session_id, tenant_id="acme", user=ana)
        assert (a.turn, b.turn, c.turn) == (1, 2, 3)
        state = await engine.session(a.session_id, user=ana)
        assert (state.tenant_id, state.user_id, state.turn_count) == ("acme", "ana", 3)
        assert (await engine.session(a.session_id, user=Principal(user_id="ana"))).turns == []

        for call in (
            engine.ask("How many artists are there?", tenant_id="globex", user=ana),
            engine.session(a.session_id, tenant_id="globex", user=ana),
            engine.reset_session(a.session_id, tenant_id="globex", user=ana),
        ):
            e = await failure(call)
            assert isinstance(e, E.InvalidInput) and error_code(e) == "INVALID_INPUT"
            assert "tenant `acme` differs from the `tenant_id` argument `globex`" in str(e)
        assert (await engine.session(a.session_id, user=ana)).turn_count == 3

    run(body())


@pytest.mark.parametrize(
    "attributes, message",
    [
        ("[3]", "`attributes_json` is a JSON value that is not an object"),
        ('"employee_id"', "`attributes_json` is a JSON value that is not an object"),
        ("{employee_id: 3}", "`attributes_json` is not JSON"),
        ('{"region": {"name": "EU"}}', "attribute `region` must be a string, a number, a boolean or a list of them"),
        ('{"ids": [1, [2]]}', "attribute `ids` must be a string, a number, a boolean or a list of them"),
    ],
    ids=["list", "string", "not-json", "nested-object", "nested-list"],
)
def test_bad_attributes_are_invalid_input(attributes, message):
    async def body():
        engine = Engine()
        user = Principal(user_id="jane", roles=["sales_rep"], attributes_json=attributes)
        for call in (
            engine.ask("How many artists are there?", user=user),
            engine.session("some-session", user=user),
            engine.reset_session("some-session", user=user),
            engine.schema(user=user),
        ):
            e = await failure(call)
            assert isinstance(e, E.InvalidInput) and error_code(e) == "INVALID_INPUT"
            assert message in str(e) and message in e.reason

    run(body())


def test_a_sales_rep_sees_only_their_customers():
    async def body():
        engine = Engine.from_toml(ACCESS)
        counts = {n: rows(await engine.ask("How many customers are there?", user=rep(n))) for n in (3, 4, 5)}
        assert counts == {3: [(21,)], 4: [(20,)], 5: [(18,)]}
        jane = Principal(user_id="jane", roles=["sales_rep"], attributes_json='{"employee_id": 3}')
        assert rows(await engine.ask("how many customers are there", user=jane)) == [(21,)]
        # With roles configured, a user without a known role reads nothing, and is told so.
        for nobody in (None, Principal(user_id="nobody"), Principal(user_id="intern", roles=["intern"])):
            e = await failure(engine.ask("How many customers are there?", user=nobody))
            assert isinstance(e, E.InvalidInput) and "role" in e.reason, e

    run(body())


def test_a_sales_rep_sees_hashed_emails_and_no_phones(fake_openai):
    model = fake_openai(writes("SELECT CustomerId, Email, Phone FROM Customer ORDER BY CustomerId"))

    async def body():
        engine = Engine.from_toml(model_toml(model.base_url, ACCESS))
        jane = await engine.ask("The contacts of my customers", user=rep(3))
        assert jane.row_count == 21
        emails = [plain(r[1]) for r in jane.rows]
        assert all(isinstance(e, str) and e and "@" not in e for e in emails), emails
        assert len(set(emails)) == 21
        assert all(r[2].is_null() for r in jane.rows)
        again = await engine.ask("The contacts of my customers, again", user=rep(3))
        assert rows(again) == rows(jane)

    run(body())


def columns_of(schema, table):
    return [c.name for c in next(t for t in schema.tables if t.name == table).columns]


HR = Principal(user_id="hannah", roles=["hr"])


def test_a_users_schema_leaves_out_the_columns_their_roles_deny():
    async def body():
        engine = Engine.from_toml(SCHEMA_ACCESS)
        hr = await engine.schema(user=HR)
        assert "BirthDate" in columns_of(hr, "Employee")
        mine = await engine.schema(user=rep(3))
        assert columns_of(mine, "Employee") == [c for c in columns_of(hr, "Employee") if c != "BirthDate"]
        # Only the denied column is left out: every table and the other columns are there.
        assert [t.name for t in mine.tables] == [t.name for t in hr.tables]
        assert columns_of(mine, "Customer") == columns_of(hr, "Customer")
        # Without a user, the engine's own schema, as before users existed.
        assert "BirthDate" in columns_of(await engine.schema(), "Employee")
        assert "BirthDate" in columns_of(await engine.schema(user=None), "Employee")
        # With roles configured, a user without a known role may see no table, and is told so.
        for nobody in (Principal(user_id="nobody"), Principal(user_id="intern", roles=["intern"])):
            e = await failure(engine.schema(user=nobody))
            assert isinstance(e, E.InvalidInput) and error_code(e) == "INVALID_INPUT"
            assert "role" in e.reason, e

    run(body())


def test_a_users_schema_is_that_of_their_tenants_database(tmp_path):
    acme = os.path.join(tmp_path, "acme.sqlite")
    shutil.copyfile(CHINOOK_SQLITE, acme)

    async def body():
        engine = Engine.from_toml(SCHEMA_ACCESS + f'[tenants.acme]\ndatabase_url = "sqlite://{acme}"\n')
        # Nobody has asked for acme yet: its pool is not open, and not pinged.
        assert (await engine.health()).tenants == [TenantHealth(tenant_id="acme", open=False, dialect="sqlite")]
        hr = await engine.schema(user=Principal(user_id="hannah", tenant_id="acme", roles=["hr"]))
        assert (hr.database, "BirthDate" in columns_of(hr, "Employee")) == ("acme", True)
        mine = Principal(user_id="rep-3", tenant_id="acme", roles=["sales_rep"], attributes_json='{"employee_id": 3}')
        theirs = await engine.schema(user=mine)
        assert (theirs.database, "BirthDate" in columns_of(theirs, "Employee")) == ("acme", False)
        assert (await engine.schema(user=rep(3))).database.startswith("chinook")  # the default tenant's
        health = await engine.health()
        assert health.status == "ok"
        assert health.tenants == [TenantHealth(tenant_id="acme", open=True, database=True, dialect="sqlite")]

    run(body())

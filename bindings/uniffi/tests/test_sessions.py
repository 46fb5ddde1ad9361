"""`list_sessions` and `rename_session`: a user lists and renames only their own conversations, most
recent first; bad limits and titles are `InvalidInput`, and renaming a conversation the user does
not have returns `None` and changes nothing. On the built-in demo database with the offline
generator."""

import uuid

import pytest
from conftest import failure, run

from conversational_bi_ffi import ConversationalBiError as E
from conversational_bi_ffi import Engine, Principal, SessionSummary, error_code


def ids(sessions):
    return [s.session_id for s in sessions]


def test_a_user_lists_their_own_conversations_most_recent_first():
    async def body():
        engine = Engine()
        ana, bob = Principal(user_id="ana"), Principal(user_id="bob")
        assert await engine.list_sessions(user=ana) == []
        first = await engine.ask("How many artists are there?", user=ana)
        theirs = await engine.ask("How many albums are there?", user=bob)
        second = await engine.ask("Top 5 genres by number of tracks", user=ana)
        await engine.ask("top 3 instead", session_id=second.session_id, user=ana)

        listed = await engine.list_sessions(user=ana)
        assert all(isinstance(s, SessionSummary) for s in listed)
        assert ids(listed) == [second.session_id, first.session_id]
        newest, oldest = listed
        assert (newest.title, newest.turn_count) == ("Top 5 genres by number of tracks", 2)
        assert (oldest.title, oldest.turn_count) == ("How many artists are there?", 1)
        assert newest.updated_at >= newest.created_at
        assert ids(await engine.list_sessions(user=bob)) == [theirs.session_id]

        # A follow-up moves a conversation up the list; the limit keeps the most recent.
        await engine.ask("How many genres are there?", session_id=first.session_id, user=ana)
        assert ids(await engine.list_sessions(user=ana)) == [first.session_id, second.session_id]
        assert ids(await engine.list_sessions(1, user=ana)) == [first.session_id]
        assert ids(await engine.list_sessions(limit=200, user=ana)) == [first.session_id, second.session_id]

        # Neither the default user nor another tenant sees them.
        assert ids(await engine.list_sessions()) == []
        assert await engine.list_sessions(tenant_id="acme", user=ana) == []
        assert ids(await engine.list_sessions(user=Principal(user_id="ana", tenant_id="default"))) == ids(
            await engine.list_sessions(user=ana)
        )
        e = await failure(engine.list_sessions(tenant_id="globex", user=Principal(user_id="ana", tenant_id="acme")))
        assert isinstance(e, E.InvalidInput) and "differs from the `tenant_id` argument" in str(e)
        # A reset conversation is not listed.
        await engine.reset_session(first.session_id, user=ana)
        assert ids(await engine.list_sessions(user=ana)) == [second.session_id]

    run(body())


def test_rename_sets_the_title_the_list_shows():
    async def body():
        engine = Engine()
        ana = Principal(user_id="ana")
        first = await engine.ask("How many artists are there?", user=ana)
        second = await engine.ask("How many albums are there?", user=ana)
        renamed = await engine.rename_session(first.session_id, "  Artist count  ", user=ana)
        assert isinstance(renamed, SessionSummary)
        assert (renamed.session_id, renamed.title, renamed.turn_count) == (first.session_id, "Artist count", 1)
        listed = await engine.list_sessions(user=ana)
        # Renaming does not move the conversation up the list.
        assert [(s.session_id, s.title) for s in listed] == [
            (second.session_id, "How many albums are there?"),
            (first.session_id, "Artist count"),
        ]
        assert listed[1] == renamed
        longest = "é" * 120
        assert (await engine.rename_session(first.session_id, longest, user=ana)).title == longest

    run(body())


@pytest.mark.parametrize(
    "title, says",
    [
        ("two\nlines", "U+000A"),
        ("x" * 121, "121 characters long"),
        ("   ", "the title is empty"),
        ("tab\there", "U+0009"),
    ],
    ids=["newline", "121", "blank", "tab"],
)
def test_a_bad_title_is_refused(title, says):
    async def body():
        engine = Engine()
        ana = Principal(user_id="ana")
        a = await engine.ask("How many artists are there?", user=ana)
        e = await failure(engine.rename_session(a.session_id, title, user=ana))
        assert isinstance(e, E.InvalidInput) and error_code(e) == "INVALID_INPUT"
        assert says in e.reason, e.reason
        assert [s.title for s in await engine.list_sessions(user=ana)] == ["How many artists are there?"]

    run(body())


def test_renaming_another_users_conversation_returns_none_and_leaves_it_alone():
    async def body():
        engine = Engine()
        ana, bob = Principal(user_id="ana"), Principal(user_id="bob")
        his = await engine.ask("How many albums are there?", user=bob)
        assert await engine.rename_session(his.session_id, "Mine now", user=ana) is None
        assert await engine.rename_session(his.session_id, "Mine now") is None  # nor the default user's
        assert await engine.rename_session(f"none-{uuid.uuid4()}", "Nothing", user=ana) is None
        assert [(s.session_id, s.title) for s in await engine.list_sessions(user=bob)] == [
            (his.session_id, "How many albums are there?")
        ]
        assert await engine.list_sessions(user=ana) == []

    run(body())


@pytest.mark.parametrize("limit", [0, 201, 2**32 - 1])
def test_a_limit_outside_1_to_200_is_refused(limit):
    async def body():
        e = await failure(Engine().list_sessions(limit))
        assert isinstance(e, E.InvalidInput) and error_code(e) == "INVALID_INPUT"
        assert f"limit {limit} is not a whole number from 1 to 200" in e.reason, e.reason

    run(body())

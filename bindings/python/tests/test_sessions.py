"""`list_sessions` and `rename_session`, blocking and as a coroutine: a user lists and renames only
their own conversations, most recent first; bad limits and titles are `InvalidInputError`s, and
renaming a conversation the user does not have returns `None` and changes nothing. On the
built-in demo database with the offline generator."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest
from conftest import Twin

import conversational_bi as cbi


def someone(name: str) -> Dict[str, Any]:
    """A user of their own (the `twin` engine is shared by the tests of this module)."""
    return {"id": f"{name}-{uuid.uuid4()}"}


def ids(sessions: List[cbi.SessionSummary]) -> List[str]:
    return [s.session_id for s in sessions]


def test_a_user_lists_their_own_conversations_most_recent_first(twin: Twin) -> None:
    ana, bob = someone("ana"), someone("bob")
    assert twin.list_sessions(user=ana) == []
    first = twin.ask("How many artists are there?", user=ana)
    theirs = twin.ask("How many albums are there?", user=bob)
    second = twin.ask("Top 5 genres by number of tracks", user=ana)
    twin.ask("top 3 instead", session_id=second.session_id, user=ana)

    listed = twin.list_sessions(user=ana)
    assert all(isinstance(s, cbi.SessionSummary) for s in listed)
    assert ids(listed) == [second.session_id, first.session_id]
    assert theirs.session_id not in ids(listed)
    newest, oldest = listed
    assert (newest.title, newest.turn_count) == ("Top 5 genres by number of tracks", 2)
    assert (oldest.title, oldest.turn_count) == ("How many artists are there?", 1)
    assert newest.updated_at >= newest.created_at and newest.updated_at >= oldest.updated_at
    assert ids(twin.list_sessions(user=bob)) == [theirs.session_id]

    # A follow-up moves a conversation up the list; the limit keeps the most recent.
    twin.ask("How many genres are there?", session_id=first.session_id, user=ana)
    assert ids(twin.list_sessions(user=ana)) == [first.session_id, second.session_id]
    assert ids(twin.list_sessions(1, user=ana)) == [first.session_id]
    assert ids(twin.list_sessions(limit=200, user=ana)) == [first.session_id, second.session_id]

    # Neither the default user nor another tenant sees them.
    assert not {first.session_id, second.session_id} & set(ids(twin.list_sessions()))
    assert twin.list_sessions(tenant_id="acme", user=ana) == []
    # A reset conversation is not listed.
    twin.reset_session(first.session_id, user=ana)
    assert ids(twin.list_sessions(user=ana)) == [second.session_id]


def test_the_tenant_comes_from_the_user_or_tenant_id(twin: Twin) -> None:
    ana = someone("ana")
    a = twin.ask("How many artists are there?", tenant_id="acme", user=ana)
    assert ids(twin.list_sessions(tenant_id="acme", user=ana)) == [a.session_id]
    assert ids(twin.list_sessions(user={**ana, "tenant": "acme"})) == [a.session_id]
    assert twin.list_sessions(user=ana) == []
    with pytest.raises(cbi.InvalidInputError, match="differs from tenant_id"):
        twin.list_sessions(tenant_id="globex", user={**ana, "tenant": "acme"})
    with pytest.raises(cbi.InvalidInputError, match="differs from tenant_id"):
        twin.rename_session(a.session_id, "Artists", tenant_id="globex", user={**ana, "tenant": "acme"})
    renamed = twin.rename_session(a.session_id, "Artists", user={**ana, "tenant": "acme"})
    assert renamed is not None and renamed.title == "Artists"


def test_rename_sets_the_title_the_list_shows(twin: Twin) -> None:
    ana = someone("ana")
    first = twin.ask("How many artists are there?", user=ana)
    second = twin.ask("How many albums are there?", user=ana)
    renamed = twin.rename_session(first.session_id, "  Artist count  ", user=ana)
    assert isinstance(renamed, cbi.SessionSummary)
    assert (renamed.session_id, renamed.title, renamed.turn_count) == (first.session_id, "Artist count", 1)
    listed = twin.list_sessions(user=ana)
    # Renaming does not move the conversation up the list.
    assert [(s.session_id, s.title) for s in listed] == [
        (second.session_id, "How many albums are there?"),
        (first.session_id, "Artist count"),
    ]
    assert listed[1] == renamed
    longest = "é" * 120
    longest_renamed = twin.rename_session(first.session_id, longest, user=ana)
    assert longest_renamed is not None and longest_renamed.title == longest


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
def test_a_bad_title_is_refused(twin: Twin, title: str, says: str) -> None:
    ana = someone("ana")
    a = twin.ask("How many artists are there?", user=ana)
    with pytest.raises(cbi.InvalidInputError) as caught:
        twin.rename_session(a.session_id, title, user=ana)
    e = caught.value
    assert isinstance(e, ValueError) and e.code == "INVALID_INPUT" and not e.retryable
    assert says in str(e), str(e)
    assert [s.title for s in twin.list_sessions(user=ana)] == ["How many artists are there?"]


def test_renaming_another_users_conversation_returns_none_and_leaves_it_alone(twin: Twin) -> None:
    ana, bob = someone("ana"), someone("bob")
    his = twin.ask("How many albums are there?", user=bob)
    assert twin.rename_session(his.session_id, "Mine now", user=ana) is None
    assert twin.rename_session(his.session_id, "Mine now") is None  # nor the default user's
    assert twin.rename_session(f"none-{uuid.uuid4()}", "Nothing", user=ana) is None
    assert [(s.session_id, s.title) for s in twin.list_sessions(user=bob)] == [
        (his.session_id, "How many albums are there?")
    ]
    assert twin.list_sessions(user=ana) == []


@pytest.mark.parametrize("limit", [0, 201, -1, 10**30, True, 2.0, "10"], ids=repr)
def test_a_limit_outside_1_to_200_is_refused(twin: Twin, limit: Any) -> None:
    with pytest.raises(cbi.InvalidInputError) as caught:
        twin.list_sessions(limit)
    e = caught.value
    assert e.code == "INVALID_INPUT"
    assert "is not a whole number from 1 to 200" in str(e), str(e)
    assert len(str(e)) < 300

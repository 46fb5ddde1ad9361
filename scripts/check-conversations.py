#!/usr/bin/env python3
"""Checks the hand-written conversation sets (eval/conversations/*.json, SParC format).

For every conversation: 3 to 5 turns. For every gold query, on the shared SQLite database of
its database_id: it runs, returns at least one row, and, when it ends in ORDER BY ... LIMIT n,
the n-th and (n+1)-th rows differ in the ORDER BY values (no tie at the cut). Over each set, at
least half of the follow-up turns refer back with a reference word (their, these, those, them,
they, of those, which one, it, the same).

    scripts/check-conversations.py [FILE...]   (default: eval/conversations/*.json)

The shared data directory comes from $CBI_SHARED_DIR (default: <repo root>/../shared).
Exits 1 when a check fails.
"""

import glob
import json
import os
import re
import sqlite3
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("CBI_SHARED_DIR") or os.path.join(ROOT, "..", "shared")
DATABASES = {
    "chinook": "data/chinook/Chinook_Sqlite.sqlite",
    "sakila": "data/sakila/sakila.sqlite",
    "northwind": "data/northwind/northwind.sqlite",
}
REFERENCE = re.compile(
    r"\b(their|these|those|them|they|of those|which one|it|the same)\b", re.IGNORECASE
)
TAIL = re.compile(r"\bORDER\s+BY\s+(?P<keys>.+?)\s+LIMIT\s+(?P<n>\d+)\s*;?\s*$", re.IGNORECASE | re.DOTALL)


def split_top(text):
    """Splits at commas outside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts]


def tie_at_limit(conn, sql):
    """A message when the query's final LIMIT n cuts between rows equal in the ORDER BY."""
    m = TAIL.search(sql)
    if not m or m.group("keys").count("(") != m.group("keys").count(")"):
        return None
    n = int(m.group("n"))
    keys = [re.sub(r"\s+(ASC|DESC)$", "", k, flags=re.IGNORECASE) for k in split_top(m.group("keys"))]
    head = sql[: m.start()]
    select = re.match(r"\s*SELECT\s+(DISTINCT\s+)?", head, re.IGNORECASE)
    if not select:
        return "cannot check the LIMIT for ties: the query does not start with SELECT"
    probe = (
        head[: select.end()] + ", ".join(keys) + ", " + head[select.end():]
        + m.group(0)[: m.start("n") - m.start()] + str(n + 1)
    )
    rows = conn.execute(probe).fetchall()
    if len(rows) > n and rows[n - 1][: len(keys)] == rows[n][: len(keys)]:
        return f"tie at LIMIT {n}: rows {n} and {n + 1} both order by {rows[n][: len(keys)]}"
    return None


def check(path):
    problems = []
    with open(path, encoding="utf-8") as f:
        conversations = json.load(f)
    follow_ups = referring = 0
    for i, conv in enumerate(conversations):
        db = conv["database_id"]
        turns = conv["interaction"]
        where = f"{os.path.basename(path)} conversation {i} ({turns[0]['utterance']!r})"
        if not 3 <= len(turns) <= 5:
            problems.append(f"{where}: {len(turns)} turns, expected 3 to 5")
        conn = sqlite3.connect(f"file:{os.path.join(SHARED, DATABASES[db])}?mode=ro", uri=True)
        for t, turn in enumerate(turns):
            if t > 0:
                follow_ups += 1
                referring += bool(REFERENCE.search(turn["utterance"]))
            try:
                rows = conn.execute(turn["query"]).fetchall()
            except sqlite3.Error as e:
                problems.append(f"{where} turn {t}: does not run: {e}")
                continue
            if not rows:
                problems.append(f"{where} turn {t}: returns no row")
            tie = tie_at_limit(conn, turn["query"])
            if tie:
                problems.append(f"{where} turn {t}: {tie}")
    share = referring / follow_ups if follow_ups else 1.0
    print(
        f"{path}: {len(conversations)} conversations, {follow_ups} follow-ups, "
        f"{referring} with a reference word ({100 * share:.0f}%)"
    )
    if share < 0.5:
        problems.append(f"{path}: fewer than half of the follow-ups refer back with a reference word")
    return problems


def main():
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(ROOT, "eval/conversations/*.json")))
    problems = [p for f in files for p in check(f)]
    for p in problems:
        print("  " + p)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

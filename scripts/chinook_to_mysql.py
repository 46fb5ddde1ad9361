#!/usr/bin/env python3
"""Derives a MariaDB/MySQL load script for Chinook from the shipped SQLite file.

Reads the SQLite database with python's sqlite3 module and writes to stdout: CREATE TABLE
statements (PascalCase names kept, primary keys, foreign keys, a few comments) and batched
INSERTs. Usage: chinook_to_mysql.py Chinook_Sqlite.sqlite > chinook.sql
"""
import re
import sqlite3
import sys

TABLE_COMMENTS = {
    "Track": "A song or other recording sold in the store",
    "Invoice": "One purchase by a customer",
}
COLUMN_COMMENTS = {
    ("Track", "UnitPrice"): "Price of one purchase of the track, in US dollars",
    ("Track", "Milliseconds"): "Duration of the track in milliseconds",
}
BATCH = 500


def mysql_type(decl: str) -> str:
    d = decl.strip().upper()
    if d.startswith("INTEGER") or d == "INT":
        return "INT"
    m = re.match(r"N?VARCHAR\((\d+)\)", d)
    if m:
        return f"VARCHAR({m.group(1)})"
    m = re.match(r"NUMERIC\((\d+),\s*(\d+)\)", d)
    if m:
        return f"DECIMAL({m.group(1)},{m.group(2)})"
    if d == "DATETIME":
        return "DATETIME"
    raise SystemExit(f"chinook_to_mysql.py: no MariaDB type for SQLite type {decl!r}")


def quote_str(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v).replace("\\", "\\\\").replace("'", "''")
    return f"'{s}'"


def ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def main() -> None:
    con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    tables = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    out = sys.stdout
    out.write("SET FOREIGN_KEY_CHECKS=0;\nSET NAMES utf8mb4;\n")
    for t in tables:
        cols = con.execute(f"PRAGMA table_info({ident(t)})").fetchall()
        pk = [c[1] for c in sorted((c for c in cols if c[5]), key=lambda c: c[5])]
        fks = {}
        for row in con.execute(f"PRAGMA foreign_key_list({ident(t)})"):
            fks.setdefault(row[0], []).append(row)
        lines = []
        for _cid, name, decl, notnull, _default, _pk in cols:
            line = f"  {ident(name)} {mysql_type(decl)}{' NOT NULL' if notnull else ' NULL'}"
            comment = COLUMN_COMMENTS.get((t, name))
            if comment:
                line += f" COMMENT {quote_str(comment)}"
            lines.append(line)
        if pk:
            lines.append(f"  PRIMARY KEY ({', '.join(ident(c) for c in pk)})")
        for fk_id, rows in sorted(fks.items()):
            rows.sort(key=lambda r: r[1])
            src = ", ".join(ident(r[3]) for r in rows)
            dst = ", ".join(ident(r[4]) for r in rows)
            lines.append(f"  CONSTRAINT {ident(f'FK_{t}_{fk_id}')} FOREIGN KEY ({src}) "
                         f"REFERENCES {ident(rows[0][2])} ({dst})")
        comment = TABLE_COMMENTS.get(t)
        tail = f" COMMENT={quote_str(comment)}" if comment else ""
        out.write(f"CREATE TABLE {ident(t)} (\n" + ",\n".join(lines)
                  + f"\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4{tail};\n")
        names = [c[1] for c in cols]
        col_list = ", ".join(ident(c) for c in names)
        rows = con.execute(f"SELECT {col_list} FROM {ident(t)} ORDER BY rowid").fetchall()
        for i in range(0, len(rows), BATCH):
            values = ",\n".join("(" + ", ".join(quote_str(v) for v in r) + ")" for r in rows[i:i + BATCH])
            out.write(f"INSERT INTO {ident(t)} ({col_list}) VALUES\n{values};\n")
    out.write("SET FOREIGN_KEY_CHECKS=1;\n")


if __name__ == "__main__":
    main()

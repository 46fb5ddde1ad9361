"""The engine's answer to one question."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Dict, List, NamedTuple, Optional, Set, Tuple

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import pyarrow

    from . import _native

__all__ = [
    "Answer",
    "Column",
    "Attempt",
    "Chart",
    "Clarification",
    "ClarificationOption",
    "ScopeItem",
]

#: Rows shown by ``_repr_html_`` before the table is cut.
HTML_MAX_ROWS = 50


class Column(NamedTuple):
    """A result column: its label and the database's type name for it."""

    name: str
    type: str


class Attempt(NamedTuple):
    """One try of the generator: the SQL it wrote and, for a failed try, why it failed."""

    sql: str
    error: Optional[str]


class Chart(NamedTuple):
    """A chart that suits the result.

    ``kind`` is ``"bar"``, ``"line"``, ``"pie"``, ``"scatter"`` or ``"stacked_bar"``; ``x`` is
    the category or time column it is drawn along (the first measure of a scatter plot), ``y``
    the measure. ``vega_lite`` is a complete Vega-Lite v6 specification of the chart, the rows
    inline, built by the engine from the result and the question: draw it with
    ``altair.Chart.from_dict(chart.vega_lite)``, ``vegaEmbed`` or any Vega-Lite renderer.
    """

    kind: str
    x: str
    y: str
    vega_lite: Dict[str, Any]


class ClarificationOption(NamedTuple):
    """One reading of an ambiguous question: ask ``label`` as the next question to pick it."""

    label: str
    detail: str


class Clarification(NamedTuple):
    """A question back to the asker, with the readings to choose from."""

    question: str
    options: List[ClarificationOption]


class ScopeItem(NamedTuple):
    """One removable part of the query an answer ran: what a front end shows as a chip under the
    answer. Pass its ``id`` as ``remove_scope`` (with an empty question and the answer's
    ``session_id``) to ask for the answer without it.

    ``id`` names the part within its answer: ``"filter:0"``, ``"having:0"``, ``"group:1"`` (by
    position), ``"order"`` or ``"limit"``. ``kind`` is ``"filter"`` (a condition on rows),
    ``"having"`` (a condition on a computed value), ``"group"``, ``"order"`` or ``"limit"``.
    ``label`` is the part in plain words, as the explanation words it (``"genre name is Rock"``,
    ``"by invoice billing country"``, ``"top 5"``).
    """

    id: str
    kind: str
    label: str


class Answer:
    """The reply to one question: the SQL that ran, what it means, and the result.

    Values in :attr:`rows` are Python values: ``int``, ``float``, ``bool``, ``str``, ``None``,
    ``decimal.Decimal`` for exact decimals (``NUMERIC``/``DECIMAL`` columns: no precision is
    lost), ``bytes`` for binary values. Dates, times and timestamps are ISO-8601 strings, as the
    engine gives them (:meth:`to_pandas` turns them into datetimes).
    """

    __slots__ = ("_native", "_rows", "_columns", "_chart")

    def __init__(self, native: _native.Answer) -> None:
        self._native = native
        self._rows: Optional[List[Tuple[Any, ...]]] = None
        self._columns: Optional[List[Column]] = None
        self._chart: Optional[Chart] = None

    @property
    def sql(self) -> str:
        """The SQL that ran (validated, comments stripped, row cap applied)."""
        return self._native.sql

    @property
    def explanation(self) -> str:
        """What the SQL does, in plain words."""
        return self._native.explanation

    @property
    def columns(self) -> List[Column]:
        """The result's columns, in order."""
        if self._columns is None:
            self._columns = [Column(name, type_) for name, type_ in self._native.columns]
        return self._columns

    @property
    def column_names(self) -> List[str]:
        """The labels of the result's columns, in order."""
        return [c.name for c in self.columns]

    @property
    def rows(self) -> List[Tuple[Any, ...]]:
        """The result, one tuple per row."""
        if self._rows is None:
            self._rows = self._native.rows
        return self._rows

    @property
    def row_count(self) -> int:
        """Number of rows returned."""
        return self._native.row_count

    @property
    def truncated(self) -> bool:
        """Whether ``[database] max_rows`` cut the result."""
        return self._native.truncated

    @property
    def cache_hit(self) -> bool:
        """Whether the SQL came from the semantic cache."""
        return self._native.cache_hit

    @property
    def similarity(self) -> Optional[float]:
        """Similarity to the cached question, on a cache hit."""
        return self._native.similarity

    @property
    def generator(self) -> str:
        """Which generator wrote the SQL (``"rule"``, ``"openai:gpt-4o-mini"``, ...)."""
        return self._native.generator

    @property
    def degraded(self) -> bool:
        """Whether a fallback answered because the configured generator was unavailable."""
        return self._native.degraded

    @property
    def attempts(self) -> List[Attempt]:
        """Every try of the generator, in order; the last one succeeded."""
        return [Attempt(sql, error) for sql, error in self._native.attempts]

    @property
    def timings(self) -> Dict[str, float]:
        """Milliseconds per stage (``guard``, ``session``, ``generate``, ``validate``,
        ``execute``, ``save``, ``total``)."""
        return self._native.timings

    @property
    def session_id(self) -> str:
        """The conversation this answer belongs to: pass it to the next ``ask`` to refine."""
        return self._native.session_id

    @property
    def turn(self) -> int:
        """The 1-based number of this turn in the conversation."""
        return self._native.turn

    @property
    def chart(self) -> Optional[Chart]:
        """A chart that suits the result, or ``None``; ``chart.vega_lite`` is its Vega-Lite
        specification."""
        if self._chart is None:
            chart, spec = self._native.chart, self._native.chart_vega_lite
            if chart is None or spec is None:
                return None
            self._chart = Chart(*chart, spec)
        return self._chart

    @property
    def warnings(self) -> List[str]:
        """Things the user should know (e.g. the result was cut at the row cap)."""
        return self._native.warnings

    @property
    def kind(self) -> str:
        """``"answer"``, or ``"clarification"`` when the engine asks which reading was meant:
        then nothing ran and :attr:`clarification` holds the question and its options."""
        return self._native.kind

    @property
    def clarification(self) -> Optional[Clarification]:
        """The question back and its options, when :attr:`kind` is ``"clarification"``."""
        c = self._native.clarification
        if c is None:
            return None
        question, options = c
        return Clarification(question, [ClarificationOption(*o) for o in options])

    @property
    def verified(self) -> bool:
        """Whether a verified query (a question someone checked) answered."""
        return self._native.verified

    @property
    def suggestions(self) -> List[str]:
        """Two or three follow-ups to ask next (pass one as the next question)."""
        return self._native.suggestions

    @property
    def scope(self) -> List[ScopeItem]:
        """The parts of the query in force after this answer (its conditions, groupings, sort
        and limit), each removable as the next turn with
        ``ask("", session_id=answer.session_id, remove_scope=item.id)``. Empty when the generator
        that wrote the SQL keeps no structured form of it (a model)."""
        return [ScopeItem(id_, kind, label) for id_, kind, label in self._native.scope]

    def to_json(self) -> str:
        """The answer as the JSON document that ``heliosdb-conversational-bi ask --json``
        prints (decimals as strings, bytes as hex)."""
        return self._native.to_json()

    def to_dicts(self) -> List[Dict[str, Any]]:
        """The rows as dicts keyed by column label. A label that occurs twice gets a suffix
        (``Name``, ``Name_2``) so that no value is lost."""
        keys = _unique(self.column_names)
        return [dict(zip(keys, row)) for row in self.rows]

    def to_pandas(self, *, coerce_float: bool = True, parse_dates: bool = True) -> pandas.DataFrame:
        """The result as a ``pandas.DataFrame``.

        Args:
            coerce_float: turn ``decimal.Decimal`` values into floats, as ``pandas.read_sql``
                does by default; ``False`` keeps exact ``Decimal`` objects.
            parse_dates: turn the ISO-8601 text of columns with a date or timestamp type into
                ``datetime64`` columns.

        Raises:
            ImportError: pandas is not installed.
        """
        pd = _require("pandas", "to_pandas")
        frame = pd.DataFrame.from_records(
            self.rows, columns=self.column_names, coerce_float=coerce_float
        )
        if parse_dates:
            iso = {"format": "ISO8601"} if int(pd.__version__.split(".")[0]) >= 2 else {}
            for index, column in enumerate(self.columns):
                if _is_temporal(column.type):
                    try:
                        parsed = pd.to_datetime(frame.iloc[:, index], **iso)
                    except (ValueError, TypeError, OverflowError):
                        continue  # values that are not dates after all stay as text
                    frame.isetitem(index, parsed)
        return frame

    def to_arrow(self) -> pyarrow.Table:
        """The result as a ``pyarrow.Table``, exact: decimals become ``decimal128`` columns,
        binary values ``binary``; dates and timestamps stay ISO-8601 text. A column whose values
        have mixed types (possible in SQLite) becomes text.

        Raises:
            ImportError: pyarrow is not installed.
        """
        pa = _require("pyarrow", "to_arrow")
        rows = self.rows
        arrays = []
        for index in range(len(self.columns)):
            values = [row[index] for row in rows]
            try:
                arrays.append(pa.array(values))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
        return pa.Table.from_arrays(arrays, names=self.column_names)

    def __repr__(self) -> str:
        return (
            f"<Answer turn={self.turn} rows={self.row_count}"
            f"{' (truncated)' if self.truncated else ''} generator={self.generator!r}"
            f" sql={self.sql!r}>"
        )

    def _repr_html_(self) -> str:
        """The answer in a notebook: the SQL, the explanation and the result table."""
        e = html.escape
        parts = [
            '<div class="conversational-bi-answer">',
            f"<p>{e(self.explanation)}</p>",
            f"<pre style=\"white-space: pre-wrap\"><code class=\"language-sql\">{e(self.sql)}</code></pre>",
            "<table>",
            "<thead><tr>"
            + "".join(f'<th title="{e(c.type)}">{e(c.name)}</th>' for c in self.columns)
            + "</tr></thead>",
            "<tbody>",
        ]
        for row in self.rows[:HTML_MAX_ROWS]:
            parts.append("<tr>" + "".join(f"<td>{e(_cell(v))}</td>" for v in row) + "</tr>")
        parts.append("</tbody></table>")
        facts = [f"{self.row_count} row{'s' if self.row_count != 1 else ''}"]
        if self.row_count > HTML_MAX_ROWS:
            facts.append(f"first {HTML_MAX_ROWS} shown")
        if self.truncated:
            facts.append("cut at the row cap")
        facts.append(f"turn {self.turn}")
        facts.append(f"generator {self.generator}")
        total = self.timings.get("total")
        if total is not None:
            facts.append(f"{total:.1f} ms")
        parts.append(f"<p><small>{e(' · '.join(facts))}</small></p>")
        clarification = self.clarification
        if clarification is not None:
            parts.append(f"<p><strong>{e(clarification.question)}</strong></p><ul>")
            for option in clarification.options:
                detail = f" ({e(option.detail)})" if option.detail else ""
                parts.append(f"<li>{e(option.label)}{detail}</li>")
            parts.append("</ul>")
        for warning in self.warnings:
            parts.append(f"<p><strong>Note:</strong> {e(warning)}</p>")
        if self.suggestions:
            parts.append(
                "<p><small>Next: " + " · ".join(e(s) for s in self.suggestions) + "</small></p>"
            )
        parts.append("</div>")
        return "\n".join(parts)


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _unique(names: List[str]) -> List[str]:
    used: Set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while candidate in used:
            n += 1
            candidate = f"{name}_{n}"
        used.add(candidate)
        out.append(candidate)
    return out


def _is_temporal(type_name: str) -> bool:
    upper = type_name.upper()
    return "DATE" in upper or "TIMESTAMP" in upper


def _require(module: str, method: str) -> Any:
    try:
        return __import__(module)
    except ImportError as e:
        raise ImportError(
            f"Answer.{method}() needs {module}, which is not installed: "
            f"pip install {module}  (or pip install 'heliosdb-conversational-bi[dataframe]')"
        ) from e

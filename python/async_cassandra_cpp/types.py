"""Value types, statements and small helpers shared by the package (DataStax-compatible names)."""

from __future__ import annotations

import calendar
import datetime
import decimal
import ipaddress
import keyword
import re
import uuid
from collections import namedtuple
from functools import lru_cache
from typing import Any, Iterable, Optional, Sequence, Tuple


class ConsistencyLevel:
    """Consistency levels (the protocol's values, as in ``cassandra.ConsistencyLevel``)."""
    ANY = 0
    ONE = 1
    TWO = 2
    THREE = 3
    QUORUM = 4
    ALL = 5
    LOCAL_QUORUM = 6
    EACH_QUORUM = 7
    SERIAL = 8
    LOCAL_SERIAL = 9
    LOCAL_ONE = 10
    value_to_name = {0: "ANY", 1: "ONE", 2: "TWO", 3: "THREE", 4: "QUORUM", 5: "ALL", 6: "LOCAL_QUORUM",
                     7: "EACH_QUORUM", 8: "SERIAL", 9: "LOCAL_SERIAL", 10: "LOCAL_ONE"}
    name_to_value = {v: k for k, v in value_to_name.items()}


class _Unset:
    __slots__ = ()

    def __repr__(self):
        return "UNSET_VALUE"

    def __reduce__(self):
        return "UNSET_VALUE"


UNSET_VALUE = _Unset()
"""Bind this to leave a column untouched (protocol "not set"), as ``cassandra.query.UNSET_VALUE``."""


class Duration:
    """CQL duration: months, days and nanoseconds (all of the same sign), as ``cassandra.util.Duration``."""
    __slots__ = ("months", "days", "nanoseconds")

    def __init__(self, months: int = 0, days: int = 0, nanoseconds: int = 0):
        self.months = months
        self.days = days
        self.nanoseconds = nanoseconds

    def __eq__(self, other):
        return (isinstance(other, Duration) and self.months == other.months and self.days == other.days
                and self.nanoseconds == other.nanoseconds)

    def __hash__(self):
        return hash((self.months, self.days, self.nanoseconds))

    def __repr__(self):
        return "Duration(%d, %d, %d)" % (self.months, self.days, self.nanoseconds)

    def cql_literal(self) -> str:
        sign = "-" if min(self.months, self.days, self.nanoseconds) < 0 else ""
        return "%s%dmo%dd%dns" % (sign, abs(self.months), abs(self.days), abs(self.nanoseconds))


class Time(datetime.time):
    """A datetime.time that keeps CQL time's nanoseconds (``nanosecond`` is 0..999,999,999 of the
    second's fraction). Returned only when a value is not a whole number of microseconds."""
    __slots__ = ("nanosecond",)

    def __new__(cls, hour=0, minute=0, second=0, nanosecond=0):
        self = super().__new__(cls, hour, minute, second, nanosecond // 1000)
        self.nanosecond = nanosecond
        return self

    @classmethod
    def from_nanoseconds(cls, ns: int) -> "Time":
        s, frac = divmod(ns, 1_000_000_000)
        return cls(s // 3600, s // 60 % 60, s % 60, frac)

    def __repr__(self):
        return "Time(%d, %d, %d, nanosecond=%d)" % (self.hour, self.minute, self.second, self.nanosecond)

    def __reduce__(self):
        return (Time, (self.hour, self.minute, self.second, self.nanosecond))


def time_from_nanoseconds(ns: int) -> Time:
    return Time.from_nanoseconds(ns)


_BAD_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def _clean_name(name: str) -> str:
    # As the DataStax driver's named_tuple_factory: non-identifier characters become "_".
    cleaned = _BAD_CHARS.sub("_", name.strip("_\"'")) or "_"
    if cleaned[0].isdigit() or keyword.iskeyword(cleaned):
        cleaned = "_" + cleaned
    return cleaned


@lru_cache(maxsize=512)
def row_class(names: Tuple[str, ...]):
    """The named tuple class of rows with these column names (``Row``, like the DataStax driver's
    default row factory; invalid or duplicate names are renamed ``_<index>``)."""
    return namedtuple("Row", [_clean_name(n) for n in names], rename=True)


def udt_class(keyspace: str, name: str, fields: Tuple[str, ...]):
    """The named tuple class of values of a user-defined type (one per type and field list)."""
    cls = namedtuple(_clean_name(name) or "UDT", [_clean_name(f) for f in fields], rename=True)
    cls.__cql_keyspace__ = keyspace
    cls.__cql_name__ = name
    return cls


class PlainTextAuthProvider:
    """Credentials for PasswordAuthenticator (as ``cassandra.auth.PlainTextAuthProvider``)."""

    def __init__(self, username: str, password: str):
        self.username = username
        self.password = password


class Statement:
    """Options shared by statements (the DataStax names)."""

    def __init__(self, consistency_level: Optional[int] = None, serial_consistency_level: Optional[int] = None,
                 fetch_size: Optional[int] = None, timeout: Any = None, is_idempotent: bool = False):
        self.consistency_level = consistency_level
        self.serial_consistency_level = serial_consistency_level
        self.fetch_size = fetch_size
        self.is_idempotent = is_idempotent


class SimpleStatement(Statement):
    """A CQL text with optional ``%s`` / ``%(name)s`` placeholders (filled client-side with CQL
    literals, as the DataStax driver does) or ``?`` markers (prepared on first use)."""

    def __init__(self, query_string: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.query_string = query_string

    def __repr__(self):
        return "<SimpleStatement query=%r>" % (self.query_string,)


class BoundStatement(Statement):
    """A prepared statement with its values (``PreparedStatement.bind(values)``)."""

    def __init__(self, prepared_statement, values=None, **kwargs):
        super().__init__(**kwargs)
        self.prepared_statement = prepared_statement
        self.values = values
        self._bound = prepared_statement._handle.bind(values)


class PreparedStatement:
    """Result of ``session.prepare``: bind with ``bind(values)`` or pass it with parameters."""

    def __init__(self, handle):
        self._handle = handle
        self.query_string: str = handle.query
        self.consistency_level: Optional[int] = None
        self.serial_consistency_level: Optional[int] = None
        self.fetch_size: Optional[int] = None
        self.is_idempotent = False

    @property
    def column_metadata(self):
        """(name, CQL type) of each bind marker."""
        return list(zip(self._handle.bind_marker_names, self._handle.bind_marker_types))

    @property
    def result_column_names(self):
        return self._handle.result_column_names

    def bind(self, values=None) -> BoundStatement:
        """Binds a sequence (one value per marker) or a dict (by marker name; missing names are
        left unset). Raises TypeError/ValueError/OverflowError naming the marker."""
        return BoundStatement(self, values, consistency_level=self.consistency_level,
                              serial_consistency_level=self.serial_consistency_level,
                              fetch_size=self.fetch_size, is_idempotent=self.is_idempotent)

    def __repr__(self):
        return "<PreparedStatement query=%r>" % (self.query_string,)


class BatchType:
    LOGGED = 0
    UNLOGGED = 1
    COUNTER = 2


class BatchStatement(Statement):
    """A BATCH of simple (without placeholders) and bound statements."""

    def __init__(self, batch_type: int = BatchType.LOGGED, **kwargs):
        super().__init__(**kwargs)
        self.batch_type = batch_type
        self._entries = []

    def add(self, statement, parameters=None):
        if isinstance(statement, str):
            statement = SimpleStatement(statement)
        if isinstance(statement, SimpleStatement):
            query = statement.query_string
            if parameters:
                query = bind_literals(query, parameters)
            self._entries.append(query)
        elif isinstance(statement, PreparedStatement):
            self._entries.append(statement.bind(parameters)._bound)
        elif isinstance(statement, BoundStatement):
            self._entries.append(statement._bound)
        else:
            raise TypeError("cannot add a %s to a batch" % type(statement).__name__)
        return self

    def add_all(self, statements, parameters):
        for s, p in zip(statements, parameters):
            self.add(s, p)
        return self

    def __len__(self):
        return len(self._entries)


# ---------------------------------------------------------------- client-side literals (%s)

def cql_literal(value: Any) -> str:
    """A Python value as a CQL literal (what ``%s`` placeholders are replaced with)."""
    if value is None:
        return "NULL"
    if value is UNSET_VALUE:
        raise ValueError("UNSET_VALUE cannot be used with %s placeholders (use a prepared statement)")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "0x" + bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return str(calendar.timegm(value.utctimetuple()) * 1000 + value.microsecond // 1000)
    if isinstance(value, datetime.date):
        return "'%s'" % value.isoformat()
    if isinstance(value, Time):
        return "'%02d:%02d:%02d.%09d'" % (value.hour, value.minute, value.second, value.nanosecond)
    if isinstance(value, datetime.time):
        return "'%s'" % value.isoformat()
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return "'%s'" % value
    if isinstance(value, Duration):
        return value.cql_literal()
    if isinstance(value, dict):
        return "{" + ", ".join("%s: %s" % (cql_literal(k), cql_literal(v)) for k, v in value.items()) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(cql_literal(v) for v in value) + "}"
    if isinstance(value, tuple) and hasattr(value, "_fields") and hasattr(type(value), "__cql_name__"):
        return "{" + ", ".join("%s: %s" % (f, cql_literal(v)) for f, v in zip(value._fields, value)) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(cql_literal(v) for v in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(cql_literal(v) for v in value) + "]"
    raise TypeError("cannot write a %s as a CQL literal" % type(value).__name__)


def bind_literals(query: str, parameters) -> str:
    """Fills ``%s`` (sequence) or ``%(name)s`` (mapping) placeholders with CQL literals."""
    if isinstance(parameters, dict):
        return query % {k: cql_literal(v) for k, v in parameters.items()}
    return query % tuple(cql_literal(v) for v in parameters)


def uses_percent_placeholders(query: str) -> bool:
    return "%s" in query or "%(" in query

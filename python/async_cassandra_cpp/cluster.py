"""AsyncCluster, AsyncCassandraSession and AsyncResultSet (the guide's names)."""

from __future__ import annotations

import asyncio
import ssl as _ssl
import tempfile
from collections import namedtuple
from typing import Any, Dict, Iterable, List, Optional, Sequence

from . import _bridge, _core
from .streaming import CHUNK_BYTES, CHUNK_ROWS, AsyncStreamingResultSet, StreamConfig
from .types import (BatchStatement, BoundStatement, ConsistencyLevel, PlainTextAuthProvider, PreparedStatement,
                    SimpleStatement, Statement, bind_literals, row_class, uses_percent_placeholders)

_NOT_SET = object()

ExecutionResult = namedtuple("ExecutionResult", ["success", "result_or_exc"])
"""One outcome of execute_concurrent, as ``cassandra.concurrent.ExecutionResult``."""


async def _rows_of(result) -> List[tuple]:
    """Every row of a C++ result, converted in chunks with the loop running in between."""
    rows: List[tuple] = []
    first = True
    for page in result.pages:
        n = len(page)
        if n == 0:
            continue
        cls = row_class(page.column_names)
        pos = 0
        while pos < n:
            if not first:
                await asyncio.sleep(0)
            first = False
            end = page.chunk_end(pos, CHUNK_ROWS, CHUNK_BYTES)
            rows.extend(page.rows(pos, end - pos, cls))
            pos = end
    return rows


class AsyncResultSet:
    """The whole result of ``execute``: iterate it (``for`` or ``async for``), or use ``one()``,
    ``all()``, ``current_rows``."""

    def __init__(self, rows: List[tuple], column_names, warnings):
        self._rows = rows
        self.column_names = list(column_names) if column_names else None
        self.warnings = list(warnings) if warnings else None
        self.has_more_pages = False

    @property
    def current_rows(self) -> List[tuple]:
        return self._rows

    def one(self):
        """The first row, or None."""
        return self._rows[0] if self._rows else None

    def all(self) -> List[tuple]:
        return list(self._rows)

    @property
    def was_applied(self) -> bool:
        """For conditional statements (IF ...): the ``[applied]`` column of the first row."""
        row = self.one()
        if row is None or not self.column_names or self.column_names[0] != "[applied]":
            raise RuntimeError("not a conditional statement's result")
        return bool(row[0])

    def __iter__(self):
        return iter(self._rows)

    def __aiter__(self):
        return self._async_rows()

    async def _async_rows(self):
        for row in self._rows:
            yield row

    def __len__(self):
        return len(self._rows)

    def __bool__(self):
        return bool(self._rows)

    def __repr__(self):
        return "<AsyncResultSet rows=%d>" % len(self._rows)


def _options(statement: Any, timeout: Any, fetch_size: Optional[int] = None):
    consistency = getattr(statement, "consistency_level", None)
    serial = getattr(statement, "serial_consistency_level", None)
    fs = fetch_size if fetch_size is not None else getattr(statement, "fetch_size", None)
    if timeout is _NOT_SET:
        t = -1.0
    elif timeout is None:
        t = None
    else:
        t = float(timeout)
        if t <= 0:
            raise ValueError("timeout must be positive (or None for no timeout)")
    return (consistency, serial, fs, t, bool(getattr(statement, "is_idempotent", False)))


class AsyncCassandraSession:
    """Executes statements; obtained from ``await cluster.connect()``. Usable as ``async with``."""

    def __init__(self, cluster: "AsyncCluster", handle):
        self._cluster = cluster
        self._handle = handle
        self._closed = False

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    # ------------------------------------------------------------ statements

    async def _native(self, query, parameters):
        """The C++ statement for query + parameters: a query text or a bound statement."""
        if self._closed:
            raise RuntimeError("the session is closed")
        if isinstance(query, str):
            query = SimpleStatement(query)
        if isinstance(query, SimpleStatement):
            text = query.query_string
            if parameters is None:
                return text, query
            if uses_percent_placeholders(text):
                return bind_literals(text, parameters), query
            # "?" markers in a simple statement: prepared once (the session caches it), then bound.
            prepared = await self.prepare(text)
            return prepared._handle.bind(parameters), query
        if isinstance(query, PreparedStatement):
            return query._handle.bind(parameters), query
        if isinstance(query, BoundStatement):
            if parameters is not None:
                raise ValueError("a BoundStatement already has its values")
            return query._bound, query
        raise TypeError("cannot execute a %s" % type(query).__name__)

    async def execute(self, query, parameters=None, timeout=_NOT_SET, **kwargs) -> AsyncResultSet:
        """Executes a statement (str, SimpleStatement, PreparedStatement with parameters,
        BoundStatement, BatchStatement) and returns every row. ``timeout`` in seconds (default:
        the cluster's request_timeout; None = none)."""
        if isinstance(query, BatchStatement):
            entries = list(query._entries)
            opts = _options(query, timeout)
            result = await _bridge.call(lambda q, t: self._handle.execute_batch(q, t, query.batch_type, entries, opts))
        else:
            native, stmt = await self._native(query, parameters)
            opts = _options(stmt, timeout)
            result = await _bridge.call(lambda q, t: self._handle.execute(q, t, native, opts))
        rows = await _rows_of(result)
        return AsyncResultSet(rows, result.column_names, result.warnings)

    async def prepare(self, query: str, custom_payload=None) -> PreparedStatement:
        """Prepares a CQL text with ``?`` (or ``:name``) markers (cached per session)."""
        if isinstance(query, SimpleStatement):
            query = query.query_string
        handle = await _bridge.call(lambda q, t: self._handle.prepare(q, t, query))
        return PreparedStatement(handle)

    async def execute_stream(self, query, parameters=None, stream_config: Optional[StreamConfig] = None,
                             timeout=_NOT_SET, **kwargs) -> AsyncStreamingResultSet:
        """Starts streaming a result page by page (returns once the first page arrived). Use
        ``async with await session.execute_stream(...) as stream``. ``timeout`` applies to each
        page request (None = none); ``StreamConfig.timeout_seconds`` bounds the wait for a page."""
        config = stream_config or StreamConfig()
        native_config = config._native()
        native, stmt = await self._native(query, parameters)
        opts = _options(stmt, timeout, fetch_size=config.fetch_size)
        handle = await _bridge.call(lambda q, t: self._handle.open_stream(q, t, native, opts, native_config))
        return AsyncStreamingResultSet(handle, config)

    async def execute_concurrent(self, statement, parameters: Iterable[Any], concurrency: int = 50,
                                 raise_on_first_error: bool = False, timeout=_NOT_SET) -> List[ExecutionResult]:
        """Executes ``statement`` once per parameter set, at most ``concurrency`` at a time, and
        returns one ExecutionResult(success, result_or_exc) per set, in order. Rows of the results
        are converted. With raise_on_first_error the first failure is raised instead."""
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if isinstance(statement, str):
            statement = (await self.prepare(statement)) if not uses_percent_placeholders(statement) \
                else SimpleStatement(statement)
        natives = []
        for params in parameters:
            if isinstance(statement, PreparedStatement):
                natives.append(statement._handle.bind(params))
            elif isinstance(statement, SimpleStatement):
                natives.append(bind_literals(statement.query_string, params) if params is not None
                               else statement.query_string)
            else:
                raise TypeError("execute_concurrent takes a PreparedStatement, a SimpleStatement or a str")
        if not natives:
            return []
        opts = _options(statement, timeout)
        outcomes = await _bridge.call(
            lambda q, t: self._handle.execute_concurrent(q, t, natives, concurrency, opts))
        results = []
        for ok, value in outcomes:
            if ok:
                results.append(ExecutionResult(True, AsyncResultSet(await _rows_of(value), value.column_names,
                                                                    value.warnings)))
            else:
                if raise_on_first_error:
                    raise value
                results.append(ExecutionResult(False, value))
        return results

    async def set_keyspace(self, keyspace: str) -> None:
        await self.execute('USE "%s"' % keyspace.replace('"', '""'))

    @property
    def keyspace(self) -> str:
        return self._handle.keyspace

    @property
    def protocol_version(self) -> int:
        """The CQL protocol version (4 or 5) negotiated for this session's cluster."""
        return self._handle.protocol_version

    def in_flight_requests(self) -> int:
        """Requests sent and not yet answered, abandoned ones included (diagnostics)."""
        return self._handle.in_flight_requests()

    async def close(self) -> None:
        """Closes the session's connections (idempotent)."""
        if self._closed:
            return
        self._closed = True
        await _bridge.call(self._handle.shutdown)

    shutdown = close

    @property
    def is_closed(self) -> bool:
        return self._closed


class _Connecting:
    """What ``cluster.connect()`` returns: await it, or use it directly with ``async with``."""

    def __init__(self, coro):
        self._coro = coro
        self._session = None

    def __await__(self):
        return self._coro.__await__()

    async def __aenter__(self):
        self._session = await self._coro
        return self._session

    async def __aexit__(self, *exc):
        await self._session.close()


def _tls_settings(ssl_context, ssl_options) -> Optional[Dict[str, Any]]:
    if ssl_context is None and not ssl_options:
        return None
    opts = dict(ssl_options or {})
    tls = {"ca_file": opts.get("ca_certs", ""), "verify_peer": True, "server_name": opts.get("server_hostname", ""),
           "cert_file": opts.get("certfile", ""), "key_file": opts.get("keyfile", "")}
    if ssl_context is not None:
        tls["verify_peer"] = ssl_context.verify_mode != _ssl.CERT_NONE
        if not tls["ca_file"]:
            # The CAs loaded into the context go to the C++ TLS layer as a PEM file.
            ders = ssl_context.get_ca_certs(binary_form=True)
            if ders:
                f = tempfile.NamedTemporaryFile("w", prefix="acass-ca-", suffix=".pem", delete=False)
                with f:
                    for der in ders:
                        f.write(_ssl.DER_cert_to_PEM_cert(der))
                tls["ca_file"] = f.name
    elif "cert_reqs" in opts:
        tls["verify_peer"] = opts["cert_reqs"] != _ssl.CERT_NONE
    return tls


class AsyncCluster:
    """Cluster configuration and the entry point (``cassandra.cluster.Cluster``'s arguments).

    ``auth_provider=PlainTextAuthProvider(user, password)`` or ``username=``/``password=``;
    ``ssl_context`` (its CA certificates and verify mode are used) and/or ``ssl_options``
    (``ca_certs``, ``certfile``, ``keyfile``, ``server_hostname``); ``protocol_version`` 4 or 5
    (None negotiates); ``compression`` True/"lz4"/"snappy"; ``request_timeout`` seconds (None =
    none); ``connect_timeout`` seconds; ``connections_per_host``; ``default_fetch_size``;
    ``consistency_level``. Usable as ``async with AsyncCluster(...) as cluster``.
    """

    def __init__(self, contact_points: Optional[Sequence[str]] = None, port: int = 9042, auth_provider=None,
                 username: Optional[str] = None, password: Optional[str] = None, ssl_context=None,
                 ssl_options: Optional[Dict[str, Any]] = None, protocol_version: Optional[int] = None,
                 compression: Any = False, request_timeout: Optional[float] = 10.0, connect_timeout: float = 5.0,
                 connections_per_host: int = 1, default_fetch_size: int = 5000,
                 consistency_level: int = ConsistencyLevel.LOCAL_ONE, **ignored):
        if contact_points is None:
            contact_points = ["127.0.0.1"]
        if isinstance(contact_points, str):
            contact_points = [contact_points]
        if auth_provider is not None:
            username = getattr(auth_provider, "username", None)
            password = getattr(auth_provider, "password", None)
            if username is None:
                raise TypeError("auth_provider must have username and password (PlainTextAuthProvider)")
        if compression is True:
            compression = "lz4"
        self.contact_points = list(contact_points)
        self.port = port
        self._requested_version = protocol_version
        self._settings = {
            "contact_points": self.contact_points, "port": int(port), "protocol_version": protocol_version,
            "username": username, "password": password if password is not None else "",
            "tls": _tls_settings(ssl_context, ssl_options), "compression": compression or "",
            "connect_timeout": float(connect_timeout), "connections_per_host": int(connections_per_host),
            "default_fetch_size": int(default_fetch_size), "consistency": int(consistency_level),
            "request_timeout": request_timeout,
        }
        self._handle = _core.Cluster(self._settings)
        self._sessions: List[AsyncCassandraSession] = []
        self._shutdown = False

    def connect(self, keyspace: Optional[str] = None, wait_for_all_pools: bool = False) -> _Connecting:
        """Opens a session (``await cluster.connect(ks)`` or ``async with cluster.connect(ks) as s``).
        Raises NoHostAvailable when no contact point accepts a connection."""
        return _Connecting(self._connect(keyspace))

    async def _connect(self, keyspace):
        if self._shutdown:
            raise RuntimeError("the cluster is shut down")
        handle = await _bridge.call(lambda q, t: self._handle.connect(q, t, keyspace))
        session = AsyncCassandraSession(self, handle)
        self._sessions.append(session)
        return session

    async def shutdown(self) -> None:
        """Closes every session of this cluster (idempotent)."""
        if self._shutdown:
            return
        self._shutdown = True
        for s in self._sessions:
            await s.close()
        await _bridge.call(self._handle.shutdown)

    @property
    def protocol_version(self) -> Optional[int]:
        """The protocol version negotiated by the first connect() (4 or 5), as in the DataStax driver;
        before that, the one asked for (None = negotiate)."""
        negotiated = self._handle.protocol_version
        return negotiated if negotiated is not None else self._requested_version

    @property
    def is_closed(self) -> bool:
        return self._shutdown

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.shutdown()


async def execute_concurrent_with_args(session: AsyncCassandraSession, statement, parameters, concurrency: int = 50,
                                       raise_on_first_error: bool = True) -> List[ExecutionResult]:
    """``cassandra.concurrent.execute_concurrent_with_args``, awaitable."""
    return await session.execute_concurrent(statement, parameters, concurrency=concurrency,
                                            raise_on_first_error=raise_on_first_error)

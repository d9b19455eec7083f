"""async_cassandra_cpp: the async-cassandra streaming API (AsyncCluster, execute_stream, StreamConfig)
over the async-cassandra-cpp C++ driver. Drop-in for the guide's code:

    from async_cassandra_cpp import AsyncCluster, StreamConfig

    async with AsyncCluster(["127.0.0.1"]) as cluster:
        session = await cluster.connect("my_keyspace")
        async with await session.execute_stream("SELECT * FROM t",
                                                stream_config=StreamConfig(fetch_size=1000)) as result:
            async for row in result:
                ...

See docs/python.md for the full guide and the type mapping.
"""

import atexit as _atexit

from . import _core
from . import exceptions as _exceptions
from . import types as _types

_core.init({
    "Duration": _types.Duration,
    "time_from_nanoseconds": _types.time_from_nanoseconds,
    "udt_class": _types.udt_class,
    "UNSET_VALUE": _types.UNSET_VALUE,
    "make_error": _exceptions.make_error,
})
_atexit.register(_core.stop_engine)

from .cluster import (AsyncCassandraSession, AsyncCluster, AsyncResultSet, ExecutionResult,  # noqa: E402
                      execute_concurrent_with_args)
from .exceptions import *  # noqa: E402,F401,F403
from .exceptions import (AlreadyExists, AuthenticationFailed, DriverException, InvalidRequest,  # noqa: E402
                         NoHostAvailable, OperationTimedOut, ReadTimeout, StreamError, StreamTimeout,
                         SyntaxException, Unavailable, WriteTimeout, WriteType)
from .streaming import AsyncStreamingResultSet, ResumePoint, StreamConfig  # noqa: E402
from .types import (UNSET_VALUE, BatchStatement, BatchType, BoundStatement, ConsistencyLevel,  # noqa: E402
                    Duration, PlainTextAuthProvider, PreparedStatement, SimpleStatement, Time)

__version__ = "0.1.0"


def live_streams() -> int:
    """Streams whose C++ side is still alive (diagnostics: returns to 0 once streams are closed)."""
    return _core.live_streams()


__all__ = [
    "AsyncCluster", "AsyncCassandraSession", "AsyncResultSet", "AsyncStreamingResultSet", "StreamConfig",
    "ResumePoint", "ExecutionResult", "execute_concurrent_with_args", "ConsistencyLevel", "SimpleStatement",
    "PreparedStatement", "BoundStatement", "BatchStatement", "BatchType", "PlainTextAuthProvider", "Duration",
    "Time", "UNSET_VALUE", "WriteType", "live_streams",
] + [name for name in dir(_exceptions) if isinstance(getattr(_exceptions, name), type)
     and issubclass(getattr(_exceptions, name), BaseException)]

"""Exceptions, named and shaped like the DataStax driver's (``cassandra``, ``cassandra.protocol``,
``cassandra.cluster``, ``cassandra.connection``), so ``except InvalidRequest`` and ``e.consistency``
work the same. Every exception is a :class:`DriverException`. Server errors also carry ``code`` (the
protocol error code) and ``message`` (the server's text)."""

from __future__ import annotations

from typing import Any, Dict, Optional


class DriverException(Exception):
    """Base of every exception raised by async_cassandra_cpp."""

    code: Optional[int] = None
    message: Optional[str] = None


# ---------------------------------------------------------------- server: execution

class RequestExecutionException(DriverException):
    """The coordinator could not execute the request."""


class Unavailable(RequestExecutionException):
    consistency = None
    required_replicas = None
    alive_replicas = None

    def __init__(self, summary_message, consistency=None, required_replicas=None, alive_replicas=None):
        self.consistency = consistency
        self.required_replicas = required_replicas
        self.alive_replicas = alive_replicas
        super().__init__(summary_message + " info=" + repr({
            "consistency": _consistency_name(consistency),
            "required_replicas": required_replicas, "alive_replicas": alive_replicas}))


class Timeout(RequestExecutionException):
    consistency = None
    required_responses = None
    received_responses = None

    def __init__(self, summary_message, consistency=None, required_responses=None, received_responses=None,
                 **kwargs):
        self.consistency = consistency
        self.required_responses = required_responses
        self.received_responses = received_responses
        info = {"consistency": _consistency_name(consistency), "required_responses": required_responses,
                "received_responses": received_responses}
        if "write_type" in kwargs:
            info["write_type"] = WriteType.value_to_name.get(kwargs["write_type"], kwargs["write_type"])
        super().__init__(summary_message + " info=" + repr(info))


class ReadTimeout(Timeout):
    data_retrieved = None

    def __init__(self, message, data_retrieved=None, **kwargs):
        super().__init__(message, **kwargs)
        self.data_retrieved = data_retrieved


class WriteTimeout(Timeout):
    write_type = None

    def __init__(self, message, write_type=None, **kwargs):
        kwargs["write_type"] = write_type
        super().__init__(message, **kwargs)
        self.write_type = write_type


class CoordinationFailure(RequestExecutionException):
    consistency = None
    required_responses = None
    received_responses = None
    failures = None
    error_code_map = None

    def __init__(self, summary_message, consistency=None, required_responses=None, received_responses=None,
                 failures=None, error_code_map=None):
        self.consistency = consistency
        self.required_responses = required_responses
        self.received_responses = received_responses
        self.failures = failures
        self.error_code_map = error_code_map
        info = {"consistency": _consistency_name(consistency), "required_responses": required_responses,
                "received_responses": received_responses, "failures": failures}
        if error_code_map is not None:
            info["error_code_map"] = {a: "0x%04x" % c for a, c in error_code_map.items()}
        super().__init__(summary_message + " info=" + repr(info))


class ReadFailure(CoordinationFailure):
    data_retrieved = None

    def __init__(self, message, data_retrieved=None, **kwargs):
        super().__init__(message, **kwargs)
        self.data_retrieved = data_retrieved


class WriteFailure(CoordinationFailure):
    write_type = None

    def __init__(self, message, write_type=None, **kwargs):
        super().__init__(message, **kwargs)
        self.write_type = write_type


class FunctionFailure(RequestExecutionException):
    def __init__(self, summary_message, keyspace=None, function=None, arg_types=None):
        self.keyspace = keyspace
        self.function = function
        self.arg_types = arg_types
        super().__init__(summary_message)


class CDCWriteFailure(RequestExecutionException):
    pass


class CASWriteUnknown(RequestExecutionException):
    """v5: the outcome of a conditional write is unknown."""

    def __init__(self, summary_message, consistency=None, required_responses=None, received_responses=None):
        self.consistency = consistency
        self.required_responses = required_responses
        self.received_responses = received_responses
        super().__init__(summary_message)


class ServerError(RequestExecutionException):
    """The node failed unexpectedly (protocol code 0x0000)."""


class OverloadedErrorMessage(RequestExecutionException):
    pass


class IsBootstrappingErrorMessage(RequestExecutionException):
    pass


class TruncateError(RequestExecutionException):
    pass


# ---------------------------------------------------------------- server: validation

class RequestValidationException(DriverException):
    pass


class ConfigurationException(RequestValidationException):
    pass


class AlreadyExists(ConfigurationException):
    keyspace = None
    table = None

    def __init__(self, keyspace=None, table=None):
        if table:
            message = "Table '%s.%s' already exists" % (keyspace, table)
        else:
            message = "Keyspace '%s' already exists" % (keyspace,)
        super().__init__(message)
        self.keyspace = keyspace
        self.table = table


class InvalidRequest(RequestValidationException):
    pass


class Unauthorized(RequestValidationException):
    pass


class SyntaxException(RequestValidationException):
    pass


class PreparedQueryNotFound(RequestValidationException):
    query_id = None


class ProtocolException(DriverException):
    """The node did not understand the request (protocol code 0x000A)."""


class AuthenticationFailed(DriverException):
    pass


# ---------------------------------------------------------------- client side

class OperationTimedOut(DriverException):
    """The request did not complete in time (it may still have been executed)."""

    errors = None
    last_host = None

    def __init__(self, errors=None, last_host=None):
        self.errors = errors
        self.last_host = last_host
        message = "errors=%s, last_host=%s" % (errors, last_host)
        super().__init__(message)


class StreamTimeout(OperationTimedOut):
    """A page of a stream did not arrive within StreamConfig.timeout_seconds."""


class StreamError(DriverException):
    """A page request of a stream kept failing; ``cause`` is the last failure, ``attempts`` the
    requests made. Continue with ``StreamConfig(resume_from=stream.resume_point())``."""

    cause = None
    attempts = None


class NoHostAvailable(DriverException):
    """No host could take the request; ``errors`` maps each host tried to its exception."""

    errors = None

    def __init__(self, message, errors):
        super().__init__(message, errors)
        self.errors = errors


class ConnectionException(DriverException):
    def __init__(self, message, endpoint=None):
        super().__init__(message)
        self.endpoint = endpoint


class ConnectionShutdown(ConnectionException):
    """The connection a request used closed before its response arrived."""


class RequestCancelled(DriverException):
    pass


class ProtocolError(DriverException):
    """Malformed bytes from the server."""


class UsageError(DriverException, ValueError):
    """Bad settings or bad use of the API."""


class WriteType:
    """Write types of WriteTimeout/WriteFailure.write_type (the DataStax driver's values)."""
    SIMPLE = 0
    BATCH = 1
    UNLOGGED_BATCH = 2
    COUNTER = 3
    BATCH_LOG = 4
    CAS = 5
    VIEW = 6
    CDC = 7
    name_to_value = {"SIMPLE": 0, "BATCH": 1, "UNLOGGED_BATCH": 2, "COUNTER": 3, "BATCH_LOG": 4, "CAS": 5,
                     "VIEW": 6, "CDC": 7}
    value_to_name = {v: k for k, v in name_to_value.items()}


_CONSISTENCY_NAMES = {0: "ANY", 1: "ONE", 2: "TWO", 3: "THREE", 4: "QUORUM", 5: "ALL", 6: "LOCAL_QUORUM",
                      7: "EACH_QUORUM", 8: "SERIAL", 9: "LOCAL_SERIAL", 10: "LOCAL_ONE"}


def _consistency_name(value):
    return _CONSISTENCY_NAMES.get(value, value)


_BY_CODE = {
    0x0000: ServerError, 0x000A: ProtocolException, 0x0100: AuthenticationFailed, 0x1001: OverloadedErrorMessage,
    0x1002: IsBootstrappingErrorMessage, 0x1003: TruncateError, 0x1600: CDCWriteFailure, 0x2000: SyntaxException,
    0x2100: Unauthorized, 0x2200: InvalidRequest, 0x2300: ConfigurationException,
}


def make_error(kind: str, message: str, fields: Dict[str, Any]) -> BaseException:
    """Builds the exception for a C++ failure (called by the extension)."""
    code = fields.pop("code", None)
    server_message = fields.pop("message", None)
    if kind == "Unavailable":
        e = Unavailable(message, **fields)
    elif kind == "ReadTimeout":
        e = ReadTimeout(message, **fields)
    elif kind == "WriteTimeout":
        fields["write_type"] = WriteType.name_to_value.get(fields.get("write_type"), fields.get("write_type"))
        e = WriteTimeout(message, **fields)
    elif kind == "ReadFailure":
        e = ReadFailure(message, **fields)
    elif kind == "WriteFailure":
        fields["write_type"] = WriteType.name_to_value.get(fields.get("write_type"), fields.get("write_type"))
        e = WriteFailure(message, **fields)
    elif kind == "CASWriteUnknown":
        e = CASWriteUnknown(message, **fields)
    elif kind == "FunctionFailure":
        e = FunctionFailure(message, **fields)
    elif kind == "AlreadyExists":
        e = AlreadyExists(fields.get("keyspace"), fields.get("table"))
    elif kind == "PreparedQueryNotFound":
        e = PreparedQueryNotFound(message)
        e.query_id = fields.get("query_id")
    elif kind == "ServerErrorCode":
        e = _BY_CODE.get(code, DriverException)(message)
    elif kind in ("OperationTimedOut", "StreamTimeout"):
        e = (StreamTimeout if kind == "StreamTimeout" else OperationTimedOut)(errors=message)
        e.args = (message,)
    elif kind == "StreamError":
        e = StreamError(message)
        e.cause = fields.get("cause")
        e.attempts = fields.get("attempts")
    elif kind == "NoHostAvailable":
        e = NoHostAvailable(message, fields.get("errors", {}))
    elif kind == "TypeError":
        return TypeError(message)
    elif kind == "MemoryError":
        return MemoryError(message)
    else:
        e = globals().get(kind, DriverException)(message)
    if code is not None:
        e.code = code
    if server_message is not None:
        e.message = server_message
    return e

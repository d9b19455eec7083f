// CQL values <-> Python objects, with the raw CPython API (no pybind11: these loops are the hot
// path and the translation units stay quick to compile). Every function runs on the event loop
// thread with the GIL held. Functions returning PyObject* return a new reference, or nullptr
// with a Python exception set.
//
// Mapping (docs/python.md has the table next to the DataStax driver's): text/ascii -> str,
// integers and counter -> int, float/double -> float, boolean -> bool, blob/custom -> bytes,
// decimal -> decimal.Decimal, varint -> int, uuid/timeuuid -> uuid.UUID, timestamp -> naive
// datetime.datetime in UTC (int milliseconds outside years 1..9999), date -> datetime.date (int
// days outside 1..9999), time -> datetime.time (the module's Time subclass when nanoseconds are
// not whole microseconds), inet -> ipaddress.IPv4Address/IPv6Address, duration -> Duration,
// list/vector -> list, set -> set, map -> dict, tuple -> tuple, UDT -> a named tuple per type.
// Inside a set or a map key, lists become tuples and sets frozensets, so they can be hashed.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <async_cassandra/data_type.hpp>
#include <async_cassandra/row.hpp>

#include <cstddef>
#include <optional>

namespace acpy {

namespace ac = async_cassandra;

/// Takes the Python helpers the converters need (a dict from the package: Duration, Time,
/// UNSET_VALUE, udt_class, ...). Returns false with a Python error set.
bool init_convert(PyObject* helpers);

/// One cell (nullopt = null) as a Python object.
PyObject* cell_to_python(const ac::DataType& type, std::optional<ac::BytesView> raw);

/// Rows [start, start + count) of `page` as instances of `row_class` (a tuple subclass such as a
/// namedtuple class with one field per column), in a new list.
PyObject* rows_to_python(const ac::Page& page, std::size_t start, std::size_t count, PyObject* row_class);

/// Writes `value` as a CQL [value] (with its [int] length; -1 for None) of `type`. Returns false
/// with a Python TypeError/ValueError/OverflowError set when it cannot be written.
bool encode_python(PyObject* value, const ac::DataType& type, ac::Bytes& out);

/// Called by init_convert.
bool init_encode();

/// Whether `value` is the module's UNSET_VALUE.
bool is_unset(PyObject* value) noexcept;

}  // namespace acpy

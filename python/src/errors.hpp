// C++ exceptions of the driver -> instances of the module's Python exceptions (named and shaped as
// the DataStax driver's: see async_cassandra_cpp/exceptions.py). Loop thread, GIL held.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <exception>

namespace acpy {

/// Takes the package's `make_error(kind, message, fields)` from `helpers`.
bool init_errors(PyObject* helpers);

/// A new exception instance for `error` (never nullptr unless memory runs out).
PyObject* exception_to_python(const std::exception_ptr& error);

}  // namespace acpy

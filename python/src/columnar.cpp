// Columnar pages: one numpy array per numeric, boolean, timestamp, date or time column, written
// straight from the page buffer (no Python object per cell), and a list per other column. A
// column with nulls becomes a numpy.ma.MaskedArray (mask = null), as in the DataStax driver's
// NumpyProtocolHandler. numpy is imported on first use, so the module imports without it.
#include "convert.hpp"

#include <async_cassandra/codec.hpp>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>

namespace py = pybind11;
using namespace pybind11::literals;

namespace acpy {

namespace {

using ac::TypeKind;

/// numpy dtype and bytes per value of a column stored as an array, or nullptr.
const char* array_dtype(const ac::DataType& t, std::size_t& size) {
    switch (t.kind) {
        case TypeKind::bigint:
        case TypeKind::counter: size = 8; return "<i8";
        case TypeKind::int_: size = 4; return "<i4";
        case TypeKind::smallint: size = 2; return "<i2";
        case TypeKind::tinyint: size = 1; return "i1";
        case TypeKind::double_: size = 8; return "<f8";
        case TypeKind::float_: size = 4; return "<f4";
        case TypeKind::boolean: size = 1; return "?";
        case TypeKind::timestamp: size = 8; return "<M8[ms]";
        case TypeKind::date: size = 8; return "<M8[D]";
        case TypeKind::time: size = 8; return "<m8[ns]";
        default: size = 0; return nullptr;
    }
}

/// Writes cell `b` of a column of kind `k` at `out` (little-endian, native numpy layout).
void store(TypeKind k, ac::BytesView b, std::uint8_t* out) {
    const std::uint8_t* p = b.data();
    switch (k) {
        case TypeKind::bigint:
        case TypeKind::counter:
        case TypeKind::timestamp:
        case TypeKind::time: {
            const auto v = ac::detail::load_be<std::int64_t>(p);
            std::memcpy(out, &v, 8);
            return;
        }
        case TypeKind::double_: {
            const auto v = ac::detail::load_be<std::uint64_t>(p);
            std::memcpy(out, &v, 8);
            return;
        }
        case TypeKind::int_: {
            const auto v = ac::detail::load_be<std::int32_t>(p);
            std::memcpy(out, &v, 4);
            return;
        }
        case TypeKind::float_: {
            const auto v = ac::detail::load_be<std::uint32_t>(p);
            std::memcpy(out, &v, 4);
            return;
        }
        case TypeKind::smallint: {
            const auto v = ac::detail::load_be<std::int16_t>(p);
            std::memcpy(out, &v, 2);
            return;
        }
        case TypeKind::tinyint: *out = p[0]; return;
        case TypeKind::boolean: *out = p[0] != 0; return;
        case TypeKind::date: {
            const std::int64_t v = ac::Date::from_wire(ac::detail::load_be<std::uint32_t>(p)).days_since_epoch;
            std::memcpy(out, &v, 8);
            return;
        }
        default: return;
    }
}

std::size_t wire_size(TypeKind k) {
    switch (k) {
        case TypeKind::date:
        case TypeKind::int_:
        case TypeKind::float_: return 4;
        case TypeKind::smallint: return 2;
        case TypeKind::tinyint:
        case TypeKind::boolean: return 1;
        default: return 8;
    }
}

}  // namespace

py::dict page_columnar(const ac::Page& page) {
    py::module_ np = py::module_::import("numpy");
    const ac::Columns& columns = page.columns();
    const std::size_t ncols = columns.size(), nrows = page.size();
    const ac::detail::PageState* state = page.state().get();

    // Start of the current cell of each row, advanced column by column: one pass per column
    // over the rows, each reading only its cells.
    std::vector<const std::uint8_t*> cursor(nrows);
    for (std::size_t r = 0; r < nrows; ++r) cursor[r] = state->base + state->row_offsets[r];

    py::dict out;
    for (std::size_t c = 0; c < ncols; ++c) {
        const ac::DataType& type = *columns[c].type;
        std::size_t size = 0;
        const char* dtype = array_dtype(type, size);
        py::str name(columns[c].name);
        if (dtype) {
            py::array values(py::dtype(dtype), std::vector<py::ssize_t>{static_cast<py::ssize_t>(nrows)});
            auto* data = static_cast<std::uint8_t*>(values.mutable_data());
            std::vector<std::uint8_t> mask;
            const std::size_t expected = wire_size(type.kind);
            for (std::size_t r = 0; r < nrows; ++r) {
                const auto cell = ac::detail::next_cell(cursor[r]);
                if (!cell || cell->size() != expected) {
                    // Null (or empty, which Cassandra allows): masked, stored as zero.
                    if (mask.empty()) mask.assign(nrows, 0);
                    mask[r] = 1;
                    std::memset(data + r * size, 0, size);
                    continue;
                }
                store(type.kind, *cell, data + r * size);
            }
            if (mask.empty()) {
                out[name] = values;
            } else {
                py::array_t<bool> m(static_cast<py::ssize_t>(nrows));
                std::memcpy(m.mutable_data(), mask.data(), nrows);
                out[name] = np.attr("ma").attr("masked_array")(values, "mask"_a = m);
            }
            continue;
        }
        py::list values(nrows);
        for (std::size_t r = 0; r < nrows; ++r) {
            PyObject* v = cell_to_python(type, ac::detail::next_cell(cursor[r]));
            if (!v) throw py::error_already_set();
            PyList_SET_ITEM(values.ptr(), static_cast<Py_ssize_t>(r), v);
        }
        out[name] = values;
    }
    return out;
}

}  // namespace acpy

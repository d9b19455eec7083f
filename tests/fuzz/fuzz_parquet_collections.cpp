// Fuzz target for the Parquet writer's reading of CQL values (tools/acass/parquet_writer.cpp):
// the collection/tuple/UDT element reader and the Dremel shredding of LIST/MAP/group nesting,
// and the decimal/varint forms (DECIMAL or text, rescaling).
// Input: [short] column count (mod 6, at least 1), that many [option] column types (any nesting),
// then pages until the input ends: [int] row count, [int] n, n bytes of rows content.
//
// Invariants: the writer accepts a page or refuses it with std::runtime_error (a malformed or
// unfittable value), nothing else; after a refusal every later call throws and no footer is
// written over a half-buffered page; when every page is accepted, close() succeeds and the file
// starts and ends with "PAR1" and counts exactly the rows of the pages.
#include "fuzz_fail.hpp"
#include "parquet_writer.hpp"

#include "protocol/data_type_codec.hpp"
#include "protocol/messages.hpp"
#include "protocol/rows_page.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace async_cassandra;
using namespace async_cassandra::protocol;

using acass_fuzz::fail;

namespace {

// The writer's file, alone in a directory of its own (removed at exit): ParquetWriter's
// constructor lists the file's directory for leftovers of an earlier rewrite, and in a shared
// /tmp with hundreds of entries that listing was ~90% of an execution's instructions.
const std::string& scratch_path() {
    static const std::string* const path = [] {
        static std::string dir = (std::filesystem::temp_directory_path() / "fuzz_parquet_collections.XXXXXX").string();
        if (!::mkdtemp(dir.data())) fail("cannot create a scratch directory");
        std::atexit([] {
            std::error_code ignored;
            std::filesystem::remove_all(dir, ignored);
        });
        return new std::string(dir + "/out.parquet");  // never destroyed: used until the exit
    }();
    return *path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto body = std::make_shared<Bytes>(data, data + size);
    ByteReader in(*body);
    std::vector<ColumnSpec> columns;
    try {
        const std::size_t ncols = in.read_u16() % 6 + 1;
        for (std::size_t i = 0; i < ncols; ++i) columns.push_back({"ks", "t", "c" + std::to_string(i), read_type_option(in)});
    } catch (const Error&) {
        return 0;  // not a type list (the driver's codec: fuzz_rows)
    }
    std::vector<Page> pages;
    while (pages.size() < 64) {
        RowsResult result;
        result.metadata.columns = columns;
        result.metadata.column_count = static_cast<std::int32_t>(columns.size());
        try {
            result.row_count = in.read_i32();
            const std::int32_t n = in.read_i32();
            if (n < 0) break;
            result.rows_content = in.take(static_cast<std::size_t>(n));
            pages.push_back(protocol::page_from_rows(body, std::move(result)));
        } catch (const Error&) {
            break;  // the end of the input, or rows that do not frame (refused before any writer)
        }
    }
    if (pages.empty()) return 0;
    acass_cli::ParquetOptions options;
    options.row_group_rows = 3;  // several row groups: forms chosen by the first, kept by the others
    options.page_bytes = 64;
    options.dictionary_bytes = 256;
    options.compression = size % 2 ? acass_cli::ParquetOptions::Compression::snappy
                                   : acass_cli::ParquetOptions::Compression::none;
    std::int64_t rows = 0;
    acass_cli::ParquetWriter writer(scratch_path(), pages.front().columns(), options);
    for (const Page& page : pages) {
        try {
            writer.write_page(page);
        } catch (const std::runtime_error&) {
            bool closed = true;
            try {
                writer.close();
            } catch (const std::runtime_error&) {
                closed = false;
            }
            if (closed) fail("close() wrote a footer after a refused page");
            return 0;
        }
        rows += static_cast<std::int64_t>(page.size());
    }
    try {
        writer.close();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "close: %s\n", e.what());
        fail("close() failed after every page was accepted");
    }
    if (writer.committed_rows() != rows) fail("the file does not hold every row");
    std::ifstream file(scratch_path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(file)), {});
    if (bytes.size() < 12 || bytes.compare(0, 4, "PAR1") != 0 || bytes.compare(bytes.size() - 4, 4, "PAR1") != 0)
        fail("not a Parquet file");
    return 0;
}

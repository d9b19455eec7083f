// Fuzz target for the embedded node's CQL lexer and parser (server/engine/cql_parser.cpp), which
// read query text straight from any client (QUERY and PREPARE bodies). Input: byte 0 picks the
// entry point (bit 0: parse_cql_type, else parse_cql), the rest is the text.
//
// Invariants: text is either parsed or refused with CqlError (which the node turns into an ERROR
// response); nothing else escapes, no crash, no UB, and parsing is deterministic (the same text
// gives the same bind-marker count twice).
#include "fuzz_fail.hpp"
#include "server/engine/cql_ast.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

using acass_fuzz::fail;

namespace {

void run_one(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    namespace cql = async_cassandra::server::cql;
    try {
        if (data[0] & 1) {
            (void)cql::parse_cql_type(text);
        } else {
            const cql::ParsedStatement first = cql::parse_cql(text);
            const cql::ParsedStatement second = cql::parse_cql(text);
            if (first.bind_count != second.bind_count || first.statement.index() != second.statement.index())
                fail("the same text parsed two ways");
        }
    } catch (const cql::CqlError&) {
    } catch (...) {
        fail("an exception other than CqlError escaped the parser");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    run_one(data, size);
    return 0;
}

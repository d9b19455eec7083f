// Fuzz target for the text readers of text_codec.hpp (from_cql_literal, from_json,
// split_json_object). Input: one [option] column type (any nesting), one mode byte, then the text.
// Mode bit 0 picks the grammar (CQL literal / JSON), bit 1 also runs split_json_object.
//
// Invariants: nothing but async_cassandra::Error escapes; whatever text is accepted produces
// bytes the printers can print, and printing then reading again gives the same bytes (the
// readers are exact inverses of the printers on their own output).
#include "fuzz_fail.hpp"
#include <async_cassandra/codec.hpp>
#include <async_cassandra/text_codec.hpp>

#include "protocol/data_type_codec.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace async_cassandra;
using namespace async_cassandra::protocol;

using acass_fuzz::fail;

namespace {

// Prints accepted bytes in the same grammar and reads them back.
void check_stable(const DataType& type, const std::optional<Bytes>& parsed, bool json) {
    const std::optional<BytesView> view = parsed ? std::optional<BytesView>(BytesView(*parsed)) : std::nullopt;
    std::string printed;
    try {
        printed = json ? to_json(type, view) : to_cql_literal(type, view);
    } catch (const Error& e) {
        fail("accepted text produced bytes the printer rejects", e.what());
    }
    std::optional<Bytes> again;
    try {
        again = json ? from_json(type, printed) : from_cql_literal(type, printed);
    } catch (const Error& e) {
        fail("printed text is not read back", printed + " -> " + e.what());
    }
    if (again != parsed) fail("print/read changed the bytes", printed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    DataTypePtr type;
    std::uint8_t mode = 0;
    std::string_view text;
    try {
        ByteReader in(BytesView(data, size));
        type = read_type_option(in);
        mode = in.read_u8();
        const BytesView rest = in.rest();
        text = std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size());
    } catch (const Error&) {
        return 0;
    }
    const bool json = (mode & 1) != 0;
    try {
        const auto parsed = json ? from_json(*type, text) : from_cql_literal(*type, text);
        check_stable(*type, parsed, json);
    } catch (const Error&) {
    }
    if (mode & 2) {
        try {
            for (const auto& [key, value] : split_json_object(text)) {
                try {
                    (void)from_json(*type, value);
                } catch (const Error&) {
                }
            }
        } catch (const Error&) {
        }
    }
    return 0;
}

// Fuzz target for the Parquet writer's page decoder (parquet::for_each_data_page in
// tools/acass/parquet_writer.cpp), which reads back the writer's own column chunks when a
// decimal/varint column switches to text mid-file and the file so far is rewritten.
// Input: one byte of flags (bit 0: Snappy; bits 1-2: maximum definition level - 1; bits 3-4:
// maximum repetition level), then the chunk bytes (page headers and bodies).
//
// Invariants: the decoder returns or throws std::runtime_error, nothing else; every page it
// delivers has one repetition and one definition level per value, no level above the column's
// maximum, and one value per present (maximum definition level) entry.
#include "parquet_writer.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto compression = data[0] & 1 ? acass_cli::ParquetOptions::Compression::snappy
                                         : acass_cli::ParquetOptions::Compression::none;
    const auto max_def = static_cast<std::uint8_t>((data[0] >> 1 & 3) + 1);
    const auto max_rep = static_cast<std::uint8_t>(data[0] >> 3 & 3);
    const std::string_view chunk(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        acass_cli::parquet::for_each_data_page(chunk, compression, max_def, max_rep,
                                               [&](const acass_cli::parquet::DecodedPage& page) {
            std::size_t present = 0;
            if (page.reps.size() != page.defs.size()) std::abort();
            for (std::size_t i = 0; i < page.defs.size(); ++i) {
                if (page.defs[i] > max_def || page.reps[i] > max_rep) std::abort();
                present += page.defs[i] == max_def;
            }
            if (present != page.values.size()) std::abort();
        });
    } catch (const std::runtime_error&) {
    }
    return 0;
}

// Parquet writer (see parquet_writer.hpp for the mapping and the resume contract).
//
// Layout written: "PAR1", then per row group one column chunk per column (data pages only:
// PageHeader + [4-byte length + RLE definition levels + PLAIN values], the body compressed
// whole), then the FileMetaData footer, its 4-byte little-endian length and "PAR1".
// Each column fills an open page (levels and values as plain bytes); at page_bytes the page is
// encoded, compressed and appended to the column's chunk buffer; at row_group_bytes (or rows)
// every chunk is written out and its ColumnChunk metadata serialized for the footer.
#include "parquet_writer.hpp"

#include "errors.hpp"
#include "fsync_directory.hpp"
#include "parquet_thrift.hpp"

#include <async_cassandra/codec.hpp>
#include <async_cassandra/value_text.hpp>
#include <async_cassandra/values.hpp>

#include <snappy.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace acass_cli {

namespace ac = async_cassandra;

namespace {

static_assert(std::endian::native == std::endian::little, "PLAIN encoding is written from memory");

// parquet.thrift enums used here.
enum PhysicalType : std::int32_t { BOOLEAN = 0, INT32 = 1, INT64 = 2, FLOAT = 4, DOUBLE = 5, BYTE_ARRAY = 6, FIXED_LEN_BYTE_ARRAY = 7 };
enum ConvertedType : std::int32_t { UTF8 = 0, MAP = 1, LIST = 3, DECIMAL = 5, DATE = 6, TIMESTAMP_MILLIS = 9, INT_8 = 15, INT_16 = 16, INT_32 = 17, INT_64 = 18, JSON = 19, NO_CONVERTED = -1 };
enum LogicalTypeId : std::int16_t { L_NONE = 0, L_STRING = 1, L_MAP = 2, L_LIST = 3, L_DECIMAL = 5, L_DATE = 6, L_TIME = 7, L_TIMESTAMP = 8, L_INTEGER = 10, L_JSON = 12, L_UUID = 14 };
constexpr std::int32_t kEncodingPlain = 0, kEncodingRle = 3, kEncodingRleDictionary = 8;
constexpr std::int32_t kRequired = 0, kOptional = 1, kRepeated = 2;
constexpr std::int32_t kDataPage = 0, kDictionaryPage = 2;

// How a CQL value becomes a Parquet value.
enum class Conversion { boolean, i8, i16, i32, i64, f32, f64, bytes, timestamp, date, time, uuid, inet, varint, decimal, duration, json };

// DECIMAL columns declare this precision: the largest that Decimal128 readers (arrow, Spark,
// DuckDB) take exactly. Their scale is 0 (varint) or the file's (decimal), always below it.
constexpr std::int32_t kDecimalPrecision = 38;

// The minimal two's complement form of a CQL varint (which may carry redundant sign bytes);
// Parquet's binary DECIMAL asks for the minimal number of bytes. Empty (a malformed zero): "".
std::string_view minimal_twos_complement(std::string_view b) {
    while (b.size() > 1 && ((b[0] == 0 && !(static_cast<unsigned char>(b[1]) & 0x80)) ||
                            (static_cast<unsigned char>(b[0]) == 0xff && (static_cast<unsigned char>(b[1]) & 0x80))))
        b.remove_prefix(1);
    return b;
}

ac::Varint varint_of(std::string_view b) {
    if (b.empty()) return ac::Varint{};
    return ac::Varint::from_bytes({reinterpret_cast<const std::uint8_t*>(b.data()), b.size()});
}

// Whether a minimal unscaled value has at most kDecimalPrecision digits.
bool fits_decimal_precision(std::string_view minimal) {
    if (minimal.size() <= 15) return true;  // |v| < 2^119 < 10^38
    if (minimal.size() > 16) return false;  // |v| >= 2^127 > 10^38
    std::string digits = varint_of(minimal).to_string();
    if (digits[0] == '-') digits.erase(0, 1);
    return digits.size() <= static_cast<std::size_t>(kDecimalPrecision);
}

// Statistics longer than this are left out (a reader may not want a 1 MB blob in the footer).
constexpr std::size_t kMaxStatisticsBytes = 256;

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string unhex(std::string_view text) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        throw std::invalid_argument("bad hex digit");
    };
    if (text.size() % 2) throw std::invalid_argument("odd hex length");
    std::string out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2)
        out += static_cast<char>(nibble(text[i]) << 4 | nibble(text[i + 1]));
    return out;
}

template <class T>
void put_le(std::string& out, T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.append(b, sizeof(T));
}

void put_uleb128(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out += static_cast<char>((v & 0x7F) | 0x80);
        v >>= 7;
    }
    out += static_cast<char>(v);
}

// Dictionary indexes of an RLE_DICTIONARY page: the bit width (one byte), then the RLE/bit-packed
// hybrid: a run of 8 or more equal indexes as an RLE run, anything else in bit-packed groups of
// 8 (least significant bit first; only the page's last group is padded, the reader stops at
// the page's value count).
void append_indexes(std::string& body, const std::vector<std::uint32_t>& idx, int width) {
    body += static_cast<char>(width);
    const std::size_t value_bytes = static_cast<std::size_t>(width + 7) / 8;
    auto run_at = [&](std::size_t i) {
        std::size_t run = 1;
        while (i + run < idx.size() && idx[i + run] == idx[i]) ++run;
        return run;
    };
    for (std::size_t i = 0; i < idx.size();) {
        if (const std::size_t run = run_at(i); run >= 8) {
            put_uleb128(body, static_cast<std::uint64_t>(run) << 1);
            for (std::size_t b = 0; b < value_bytes; ++b) body += static_cast<char>(idx[i] >> (8 * b));
            i += run;
            continue;
        }
        const std::size_t start = i;
        std::size_t groups = 0;
        do {
            i = std::min(i + 8, idx.size());
            ++groups;
        } while (i < idx.size() && run_at(i) < 8);
        put_uleb128(body, static_cast<std::uint64_t>(groups) << 1 | 1);
        std::string packed(groups * static_cast<std::size_t>(width), '\0');
        for (std::size_t k = 0; k < groups * 8 && start + k < idx.size(); ++k) {
            const std::uint32_t v = idx[start + k];
            for (int b = 0; b < width; ++b)
                if (v >> b & 1) {
                    const std::size_t bit = k * static_cast<std::size_t>(width) + static_cast<std::size_t>(b);
                    packed[bit / 8] = static_cast<char>(packed[bit / 8] | (1 << (bit % 8)));
                }
        }
        body += packed;
    }
}

// Repetition or definition levels of a v1 data page: a 4-byte length, then RLE runs of the
// RLE/bit-packed hybrid (levels never exceed 255 here, so a run's value is one byte whatever
// the bit width of the column's maximum level).
void append_levels(std::string& body, const std::vector<std::uint8_t>& levels) {
    std::string rle;
    for (std::size_t i = 0; i < levels.size();) {
        std::size_t j = i;
        while (j < levels.size() && levels[j] == levels[i]) ++j;
        std::uint64_t header = static_cast<std::uint64_t>(j - i) << 1;
        while (header >= 0x80) {
            rle += static_cast<char>((header & 0x7F) | 0x80);
            header >>= 7;
        }
        rle += static_cast<char>(header);
        rle += static_cast<char>(levels[i]);
        i = j;
    }
    put_le(body, static_cast<std::uint32_t>(rle.size()));
    body += rle;
}

// Reads the RLE/bit-packed hybrid (levels, dictionary indexes) of `width` bits per value: `count`
// values from `in`, which is advanced past them.
std::vector<std::uint32_t> read_hybrid(std::string_view& in, int width, std::size_t count) {
    auto fail = [](const char* what) { throw std::runtime_error(std::string("Parquet page: ") + what); };
    if (width < 0 || width > 32) fail("a bit width over 32");
    auto uleb = [&] {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (in.empty()) fail("a truncated run header");
            const auto b = static_cast<std::uint8_t>(in.front());
            in.remove_prefix(1);
            v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80)) return v;
        }
        fail("a run header too long");
        return std::uint64_t{0};
    };
    std::vector<std::uint32_t> out;
    out.reserve(std::min<std::size_t>(count, in.size() * 8 + 8));
    const std::size_t value_bytes = static_cast<std::size_t>(width + 7) / 8;
    while (out.size() < count) {
        const std::uint64_t header = uleb();
        if (header & 1) {  // bit-packed groups of 8
            const std::uint64_t groups = header >> 1;
            if (groups == 0 || groups > in.size()) fail("a truncated bit-packed run");
            const std::size_t bytes = static_cast<std::size_t>(groups) * static_cast<std::size_t>(width);
            if (bytes > in.size()) fail("a truncated bit-packed run");
            for (std::size_t k = 0; k < groups * 8 && out.size() < count; ++k) {
                std::uint32_t v = 0;
                for (int b = 0; b < width; ++b) {
                    const std::size_t bit = k * static_cast<std::size_t>(width) + static_cast<std::size_t>(b);
                    if (static_cast<unsigned char>(in[bit / 8]) >> (bit % 8) & 1) v |= std::uint32_t{1} << b;
                }
                out.push_back(v);
            }
            in.remove_prefix(bytes);
        } else {
            const std::uint64_t run = header >> 1;
            if (run == 0 || run > count - out.size()) fail("an RLE run beyond the page's values");
            if (in.size() < value_bytes) fail("a truncated RLE run");
            std::uint32_t v = 0;
            for (std::size_t b = 0; b < value_bytes; ++b) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[b])) << (8 * b);
            in.remove_prefix(value_bytes);
            out.insert(out.end(), static_cast<std::size_t>(run), v);
        }
    }
    return out;
}

}  // namespace

namespace parquet {

void for_each_data_page(std::string_view chunk, ParquetOptions::Compression compression, std::uint8_t max_def,
                        std::uint8_t max_rep, const std::function<void(const DecodedPage&)>& on_page) {
    auto fail = [](const std::string& what) { throw std::runtime_error("Parquet column chunk: " + what); };
    std::vector<std::string> dictionary;
    std::string body;
    DecodedPage page;
    while (!chunk.empty()) {
        const ThriftValue header = read_thrift_struct(chunk);
        const std::int64_t type = header.integer_of(1), size = header.integer_of(2), stored = header.integer_of(3);
        if (stored < 0 || size < 0 || static_cast<std::uint64_t>(stored) > chunk.size()) fail("a page beyond the chunk");
        const std::string_view raw = chunk.substr(0, static_cast<std::size_t>(stored));
        chunk.remove_prefix(static_cast<std::size_t>(stored));
        if (compression == ParquetOptions::Compression::snappy) {
            std::size_t length = 0;
            if (!snappy::GetUncompressedLength(raw.data(), raw.size(), &length) || length != static_cast<std::size_t>(size) ||
                !snappy::Uncompress(raw.data(), raw.size(), &body))
                fail("a page that is not valid Snappy");
        } else {
            if (stored != size) fail("an uncompressed page whose sizes differ");
            body.assign(raw);
        }
        std::string_view in(body);
        auto plain_byte_arrays = [&](std::size_t count, auto&& add) {
            for (std::size_t i = 0; i < count; ++i) {
                if (in.size() < 4) fail("a truncated PLAIN value");
                std::uint32_t n = 0;
                std::memcpy(&n, in.data(), 4);
                if (n > in.size() - 4) fail("a truncated PLAIN value");
                add(in.substr(4, n));
                in.remove_prefix(4 + static_cast<std::size_t>(n));
            }
        };
        if (type == kDictionaryPage) {
            const ThriftValue* d = header.field(7);
            if (!d || !dictionary.empty()) fail("a misplaced dictionary page");
            const std::int64_t n = d->integer_of(1);
            if (n < 0 || static_cast<std::uint64_t>(n) > in.size()) fail("a dictionary larger than its page");
            plain_byte_arrays(static_cast<std::size_t>(n), [&](std::string_view v) { dictionary.emplace_back(v); });
            continue;
        }
        const ThriftValue* d = header.field(5);
        if (type != kDataPage || !d) fail("a page that is not a v1 data page");
        const std::int64_t n = d->integer_of(1);
        // (A page of nulls holds millions of levels in a few RLE bytes: bounded by what a page of
        // page_bytes can hold, not by its size.)
        if (n < 0 || n > (std::int64_t{1} << 26)) fail("more values than a page of this writer holds");
        const auto count = static_cast<std::size_t>(n);
        auto levels = [&](std::uint8_t max, std::vector<std::uint8_t>& out) {
            out.clear();
            if (in.size() < 4) fail("truncated levels");
            std::uint32_t length = 0;
            std::memcpy(&length, in.data(), 4);
            if (length > in.size() - 4) fail("truncated levels");
            std::string_view runs = in.substr(4, length);
            for (const std::uint32_t l : read_hybrid(runs, std::bit_width(max), count)) {
                if (l > max) fail("a level above the column's maximum");
                out.push_back(static_cast<std::uint8_t>(l));
            }
            in.remove_prefix(4 + static_cast<std::size_t>(length));
        };
        if (max_rep > 0) levels(max_rep, page.reps);
        else page.reps.assign(count, 0);
        levels(max_def, page.defs);
        std::size_t present = 0;
        for (const std::uint8_t l : page.defs) present += l == max_def;
        page.values.clear();
        const std::int64_t encoding = d->integer_of(2);
        if (encoding == kEncodingPlain) {
            plain_byte_arrays(present, [&](std::string_view v) { page.values.push_back(v); });
        } else if (encoding == kEncodingRleDictionary) {
            if (present > 0) {
                if (in.empty()) fail("a dictionary page without a bit width");
                const int width = static_cast<unsigned char>(in.front());
                in.remove_prefix(1);
                for (const std::uint32_t i : read_hybrid(in, width, present)) {
                    if (i >= dictionary.size()) fail("an index beyond the dictionary");
                    page.values.emplace_back(dictionary[i]);
                }
            }
        } else {
            fail("an encoding this writer does not use");
        }
        on_page(page);
    }
}

}  // namespace parquet

ParquetOptions::Compression parse_parquet_compression(const std::string& name) {
    if (name == "snappy") return ParquetOptions::Compression::snappy;
    if (name == "none" || name == "uncompressed") return ParquetOptions::Compression::none;
    throw CliUsageError("unknown Parquet compression '" + name + "' (snappy or none)");
}

struct ParquetWriter::Column {
    std::string name;
    Conversion conversion = Conversion::bytes;
    PhysicalType physical = BYTE_ARRAY;
    ConvertedType converted = NO_CONVERTED;
    LogicalTypeId logical = L_NONE;
    std::int8_t int_bits = 0;
    std::string note;  ///< why the column is text, for the key/value metadata

    // decimal and varint leaves: DECIMAL(38, scale) over BYTE_ARRAY, or text. The form is chosen
    // when the first row group holding a value of the column is written (see decide_number_form);
    // until then the open page keeps the raw CQL values (length-prefixed) and is not cut.
    enum class NumberForm { none, undecided, decimal, text };
    NumberForm number_form = NumberForm::none;
    std::int32_t decimal_scale = 0;   ///< NumberForm::decimal: the file's scale (0 for varint)
    std::int64_t rescaled = 0;        ///< decimals of another scale written at decimal_scale exactly
    std::string text_reason;          ///< NumberForm::text: why (for the note)
    /// --parquet-decimal decimal: a value DECIMAL cannot hold stops the export (DataError)
    /// instead of switching the column to text.
    bool strict_decimal = false;
    /// Switched from DECIMAL to text after row groups were written in DECIMAL: the writer
    /// rewrites them (ParquetWriter::rewrite_file_so_far) before the next row group.
    bool rewrite_pending = false;
    bool switched = false;  ///< switched mid-file (now or in an earlier run): for the note
    ParquetOptions::Compression compression = ParquetOptions::Compression::snappy;
    std::string decimal_scratch;  ///< a rescaled value's bytes

    // Where the leaf sits: its path from the root (a top-level column: just its name), the
    // definition level of a present value and the repetition level of its innermost list/map.
    std::vector<std::string> path;
    ac::DataTypePtr type;
    std::uint8_t max_def = 1, max_rep = 0;
    bool required = false;  ///< a map key: never null

    // The open page.
    std::vector<std::uint8_t> levels;  ///< definition level per value (max_def = present)
    std::vector<std::uint8_t> reps;    ///< repetition level per value (when max_rep > 0)
    std::string values;                ///< PLAIN bytes (booleans: one byte each, packed at the cut)
    std::int64_t page_values = 0;

    // The column chunk of the row group being built.
    std::string chunk;  ///< page headers and (compressed) page bodies
    std::int64_t chunk_values = 0;
    std::int64_t chunk_uncompressed = 0;
    std::int64_t nulls = 0, nans = 0;
    bool has_min_max = false;
    std::int64_t imin = 0, imax = 0;
    double dmin = 0, dmax = 0;
    std::string smin, smax;

    std::string text;  ///< scratch for text conversions

    // Dictionary encoding (BYTE_ARRAY leaves): the chunk's distinct values (PLAIN, in
    // `dictionary`) and the open page's indexes into them. The chunk falls back to PLAIN for its
    // remaining pages when the dictionary outgrows the limit or holds over half the values seen
    // (it would not pay); pages already written keep their indexes.
    std::size_t dictionary_limit = 0;  ///< bytes; 0 = no dictionary for this column
    bool dictionary_on = false;        ///< the open page and the next ones use the dictionary
    bool dictionary_pages = false;     ///< some page of this chunk holds indexes
    std::string dictionary;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> entries;  ///< (offset, size) in `dictionary`
    std::unordered_map<std::string, std::uint32_t> entry_of;
    std::vector<std::uint32_t> indexes;  ///< the open page's values, in dictionary mode
    std::int64_t dictionary_values = 0;  ///< values seen in this chunk while dictionary_on

    void reset_chunk() {
        chunk.clear();
        chunk_values = chunk_uncompressed = nulls = nans = 0;
        has_min_max = false;
        smin.clear();
        smax.clear();
        dictionary_on = dictionary_limit > 0;
        dictionary_pages = false;
        dictionary.clear();
        entries.clear();
        entry_of.clear();
        dictionary_values = 0;
    }

    // Stops using the dictionary from the open page on: its indexes become PLAIN values.
    void drop_dictionary() {
        dictionary_on = false;
        for (const std::uint32_t i : indexes) {
            const std::string_view v(dictionary.data() + entries[i].first, entries[i].second);
            put_le(values, static_cast<std::uint32_t>(v.size()));
            values += v;
        }
        indexes.clear();
        if (!dictionary_pages) {  // no page refers to it: free it now
            dictionary.clear();
            entries.clear();
            entry_of.clear();
        }
    }

    void see_int(std::int64_t v) {
        if (!has_min_max) imin = imax = v, has_min_max = true;
        else if (v < imin) imin = v;
        else if (v > imax) imax = v;
    }
    void see_double(double v) {
        if (std::isnan(v)) {
            ++nans;
            return;
        }
        if (!has_min_max) dmin = dmax = v, has_min_max = true;
        else if (v < dmin) dmin = v;
        else if (v > dmax) dmax = v;
    }
    void see_bytes(std::string_view v) {
        auto less = [](std::string_view a, std::string_view b) {  // unsigned byte-wise
            return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
                return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
            });
        };
        if (!has_min_max) {
            smin = smax = v;
            has_min_max = true;
        } else if (less(v, smin)) {
            smin = v;
        } else if (less(smax, v)) {
            smax = v;
        }
    }

    void push_levels(std::uint8_t rep, std::uint8_t def) {
        if (max_rep > 0) reps.push_back(rep);
        levels.push_back(def);
    }
    // A missing value: `def` says how far down the path is defined (a null list element, an
    // empty list, a null column...).
    void append_null(std::uint8_t rep, std::uint8_t def) {
        push_levels(rep, def);
        ++nulls;
        ++page_values;
    }
    void append_byte_array(std::uint8_t rep, std::string_view v) {
        push_levels(rep, max_def);
        ++page_values;
        store_byte_array(v);
    }
    // The value part of a present byte array (its levels are already pushed).
    void store_byte_array(std::string_view v) {
        // DECIMAL bytes order as signed numbers, not byte strings: no min/max for them.
        if (logical != L_DECIMAL) see_bytes(v);
        if (dictionary_on) {
            ++dictionary_values;
            const auto [it, added] = entry_of.try_emplace(std::string(v), static_cast<std::uint32_t>(entries.size()));
            if (added) {
                entries.emplace_back(static_cast<std::uint32_t>(dictionary.size() + 4), static_cast<std::uint32_t>(v.size()));
                put_le(dictionary, static_cast<std::uint32_t>(v.size()));
                dictionary += v;
            }
            indexes.push_back(it->second);
            const bool too_big = dictionary.size() > dictionary_limit;
            const bool not_paying = entries.size() > 1000 && static_cast<std::int64_t>(entries.size()) * 2 > dictionary_values;
            if (too_big || not_paying) drop_dictionary();
            return;
        }
        put_le(values, static_cast<std::uint32_t>(v.size()));
        values += v;
    }

    // One value (null: `raw` empty) at repetition level `rep`.
    void append(std::uint8_t rep, const std::optional<ac::BytesView>& raw) {
        auto append_null = [&] {
            if (required) throw std::runtime_error("column " + name + ": a null " + type->cql_name() + " map key");
            this->append_null(rep, static_cast<std::uint8_t>(max_def - 1));
        };
        auto append_byte_array = [&](std::string_view v) { this->append_byte_array(rep, v); };
        if (!raw) return append_null();
        const std::uint8_t* p = raw->data();
        const std::size_t n = raw->size();
        auto expect = [&](std::size_t size) {
            if (n == size) return true;
            if (n == 0) return false;  // CQL "empty" value of a fixed-size type: null
            throw std::runtime_error("column " + name + ": a " + type->cql_name() + " value of " + std::to_string(n) +
                                     " bytes");
        };
        const ac::BytesView view = *raw;
        switch (conversion) {
            case Conversion::boolean:
                if (!expect(1)) return append_null();
                push_levels(rep, max_def);
                values += static_cast<char>(p[0] != 0);
                see_int(p[0] != 0);
                break;
            case Conversion::i8:
                if (!expect(1)) return append_null();
                push_levels(rep, max_def);
                put_le(values, static_cast<std::int32_t>(static_cast<std::int8_t>(p[0])));
                see_int(static_cast<std::int8_t>(p[0]));
                break;
            case Conversion::i16:
                if (!expect(2)) return append_null();
                push_levels(rep, max_def);
                put_le(values, static_cast<std::int32_t>(ac::detail::load_be<std::int16_t>(p)));
                see_int(ac::detail::load_be<std::int16_t>(p));
                break;
            case Conversion::i32:
                if (!expect(4)) return append_null();
                push_levels(rep, max_def);
                put_le(values, ac::detail::load_be<std::int32_t>(p));
                see_int(ac::detail::load_be<std::int32_t>(p));
                break;
            case Conversion::date: {
                if (!expect(4)) return append_null();
                const auto days = ac::Date::from_wire(ac::detail::load_be<std::uint32_t>(p)).days_since_epoch;
                push_levels(rep, max_def);
                put_le(values, days);
                see_int(days);
                break;
            }
            case Conversion::i64:
            case Conversion::timestamp:
            case Conversion::time:
                if (!expect(8)) return append_null();
                push_levels(rep, max_def);
                put_le(values, ac::detail::load_be<std::int64_t>(p));
                see_int(ac::detail::load_be<std::int64_t>(p));
                break;
            case Conversion::f32: {
                if (!expect(4)) return append_null();
                const auto v = std::bit_cast<float>(ac::detail::load_be<std::uint32_t>(p));
                push_levels(rep, max_def);
                put_le(values, v);
                see_double(v);
                break;
            }
            case Conversion::f64: {
                if (!expect(8)) return append_null();
                const auto v = std::bit_cast<double>(ac::detail::load_be<std::uint64_t>(p));
                push_levels(rep, max_def);
                put_le(values, v);
                see_double(v);
                break;
            }
            case Conversion::uuid: {
                if (!expect(16)) return append_null();
                const std::string_view v(reinterpret_cast<const char*>(p), 16);
                push_levels(rep, max_def);
                values += v;
                see_bytes(v);
                break;
            }
            case Conversion::bytes:
                append_byte_array(std::string_view(reinterpret_cast<const char*>(p), n));
                return;
            case Conversion::inet:
                if (n == 0) return append_null();
                return append_byte_array(ac::ValueCodec<ac::Inet>::decode(*type, view).to_string());
            case Conversion::varint:
            case Conversion::decimal: {
                if (n == 0) return append_null();
                std::optional<std::string_view> decimal;
                if (number_form == NumberForm::decimal && !(decimal = decimal_bytes(view))) {
                    if (strict_decimal) refuse_decimal(view);
                    switch_to_text(view);  // (before this value's levels: the open page is re-encoded)
                }
                push_levels(rep, max_def);
                ++page_values;
                if (number_form == NumberForm::undecided) {  // kept raw until the form is chosen
                    put_le(values, static_cast<std::uint32_t>(n));
                    values.append(reinterpret_cast<const char*>(p), n);
                    return;
                }
                if (decimal) return store_byte_array(*decimal);
                return store_number(view);
            }
            case Conversion::duration:
                if (n == 0) return append_null();
                return append_byte_array(ac::ValueCodec<ac::Duration>::decode(*type, view).to_string());
            case Conversion::json:
                if (n == 0) return append_null();
                text.clear();
                ac::append_json(text, *type, raw);
                return append_byte_array(text);
        }
        ++page_values;
    }

    // The value part of a present decimal or varint in the chosen form.
    void store_number(ac::BytesView raw) {
        if (number_form == NumberForm::text) {
            if (conversion == Conversion::varint) return store_byte_array(ac::ValueCodec<ac::Varint>::decode(*type, raw).to_string());
            return store_byte_array(ac::ValueCodec<ac::Decimal>::decode(*type, raw).to_string());
        }
        const std::optional<std::string_view> bytes = decimal_bytes(raw);
        if (!bytes) refuse_decimal(raw);
        store_byte_array(*bytes);
    }
    // The DECIMAL(38, decimal_scale) bytes of a decimal or varint (minimal two's complement of
    // the unscaled value), or nothing when that DECIMAL cannot hold it exactly. A value of
    // another scale is not held: 1.5 and 1.50 are different CQL decimals (as text they differ),
    // so the column becomes text; only --parquet-decimal decimal (strict_decimal) writes it at
    // the file's scale when that is exact (1.5 as 1.50, counted in `rescaled` and the note).
    // The view is valid until the next call.
    std::optional<std::string_view> decimal_bytes(ac::BytesView raw) {
        const auto [scale, unscaled] = split_number(raw);
        if (scale == decimal_scale) {
            const std::string_view minimal = minimal_twos_complement(unscaled);
            if (fits_decimal_precision(minimal)) return minimal.empty() ? std::string_view("\0", 1) : minimal;
        } else if (auto bytes = strict_decimal ? rescale(unscaled, scale) : std::nullopt) {
            ++rescaled;
            decimal_scratch = std::move(*bytes);
            return std::string_view(decimal_scratch);
        }
        return std::nullopt;
    }
    // "the decimal 0.77 does not fit this file's DECIMAL(38, 1) exactly".
    std::string misfit(ac::BytesView raw) const {
        const auto [scale, unscaled] = split_number(raw);
        const std::string shown = conversion == Conversion::varint ? varint_of(unscaled).to_string()
                                                                   : ac::Decimal(scale, varint_of(unscaled)).to_string();
        const std::string file_decimal = "DECIMAL(" + std::to_string(kDecimalPrecision) + ", " + std::to_string(decimal_scale) + ")";
        if (scale != decimal_scale && !strict_decimal)
            return "the " + type->cql_name() + " " + shown + " has scale " + std::to_string(scale) + ", not the scale of this file's " + file_decimal;
        return "the " + type->cql_name() + " " + shown + " does not fit this file's " + file_decimal + " exactly";
    }
    [[noreturn]] void refuse_decimal(ac::BytesView raw) const {
        throw DataError("column " + name + ": " + misfit(raw) +
                        " (the form was chosen by the first row group holding a value) and --parquet-decimal decimal "
                        "was asked for; export again with --parquet-decimal auto (switches the column to text) or text");
    }
    // The text of a DECIMAL value this column wrote (the text --parquet-decimal text writes for
    // a value of the file's scale).
    std::string text_of_decimal(std::string_view bytes) const {
        if (conversion == Conversion::varint) return varint_of(bytes).to_string();
        return ac::Decimal(decimal_scale, varint_of(bytes)).to_string();
    }
    // A value that DECIMAL(38, decimal_scale) cannot hold arrived after the form was chosen:
    // the column becomes text. The row group being built (its encoded pages and the open page)
    // is re-encoded as text here; the row groups already in the file are rewritten by the
    // writer before it writes the next one (rewrite_pending).
    void switch_to_text(ac::BytesView raw) {
        const std::string why = misfit(raw);
        const std::string encoded = dictionary_page(compression) + chunk;  // this row group's pages so far
        std::vector<std::string> old_dictionary;
        for (const auto& [offset, size] : entries) old_dictionary.emplace_back(dictionary.data() + offset, size);
        const std::vector<std::uint8_t> old_levels = std::move(levels), old_reps = std::move(reps);
        const std::string old_values = std::move(values);
        const std::vector<std::uint32_t> old_indexes = std::move(indexes);
        const bool old_indexed = dictionary_on;
        levels.clear();
        reps.clear();
        values.clear();
        indexes.clear();
        page_values = 0;
        reset_chunk();
        choose_text("switched mid-file: " + why + " (DECIMAL was chosen by the first row group holding a value); the "
                    "row groups written before were rewritten as text");
        switched = true;
        rewrite_pending = true;
        std::fprintf(stderr, "acass: warning: Parquet column %s becomes text for the whole file: %s; the row groups "
                     "already written are rewritten (one extra pass over the file so far)\n", name.c_str(), why.c_str());
        transcode_pages(encoded, compression);
        std::size_t at = 0, next = 0;
        refeed(old_reps, old_levels, [&]() {
            if (old_indexed) return std::string_view(old_dictionary[old_indexes[next++]]);
            std::uint32_t n = 0;
            std::memcpy(&n, old_values.data() + at, 4);
            const std::string_view v = std::string_view(old_values).substr(at + 4, n);
            at += 4 + n;
            return v;
        });
    }
    // Appends the DECIMAL pages of `encoded` (a chunk this column wrote, see
    // parquet::for_each_data_page) as text pages, page for page (so pages still end between rows).
    void transcode_pages(std::string_view encoded, ParquetOptions::Compression codec) {
        parquet::for_each_data_page(encoded, codec, max_def, max_rep, [&](const parquet::DecodedPage& page) {
            refeed(page.reps, page.defs, [&, next = std::size_t{0}]() mutable { return page.values[next++]; });
            cut_page(compression);
        });
    }
    // Appends DECIMAL values as text: levels (`value_reps` empty when the column does not
    // repeat), and the bytes of the present ones from next_bytes().
    template <class NextBytes>
    void refeed(const std::vector<std::uint8_t>& value_reps, const std::vector<std::uint8_t>& defs, NextBytes&& next_bytes) {
        for (std::size_t i = 0; i < defs.size(); ++i) {
            const std::uint8_t r = value_reps.empty() ? 0 : value_reps[i];
            if (defs[i] == max_def) append_byte_array(r, text_of_decimal(next_bytes()));
            else append_null(r, defs[i]);
        }
    }
    // An empty column of the same leaf in this column's form (a rewrite's transcoding target).
    std::unique_ptr<Column> twin() const {
        auto t = std::make_unique<Column>();
        t->name = name;
        t->conversion = conversion;
        t->physical = physical;
        t->converted = converted;
        t->logical = logical;
        t->number_form = number_form;
        t->decimal_scale = decimal_scale;
        t->path = path;
        t->type = type;
        t->max_def = max_def;
        t->max_rep = max_rep;
        t->required = required;
        t->compression = compression;
        t->dictionary_limit = dictionary_limit;
        t->reset_chunk();
        return t;
    }
    // (scale, unscaled two's complement bytes) of a decimal; a varint has scale 0.
    std::pair<std::int32_t, std::string_view> split_number(ac::BytesView raw) const {
        const std::string_view all(reinterpret_cast<const char*>(raw.data()), raw.size());
        if (conversion == Conversion::varint) return {0, all};
        if (raw.size() < 4) throw std::runtime_error("column " + name + ": a decimal value of " + std::to_string(raw.size()) + " bytes");
        return {ac::detail::load_be<std::int32_t>(raw.data()), all.substr(4)};
    }
    // `unscaled` * 10^(decimal_scale - scale) as minimal bytes, when that is an integer of at
    // most kDecimalPrecision digits (1.5 at scale 2 is 150; 1.25 at scale 1 is not exact).
    std::optional<std::string> rescale(std::string_view unscaled, std::int32_t scale) const {
        std::string digits = varint_of(minimal_twos_complement(unscaled)).to_string();
        const std::int64_t shift = std::int64_t{decimal_scale} - scale;
        if (digits != "0" && shift > 0) {
            if (shift > kDecimalPrecision) return std::nullopt;
            digits.append(static_cast<std::size_t>(shift), '0');
        } else if (digits != "0" && shift < 0) {
            const std::size_t drop = static_cast<std::size_t>(-shift);
            const std::size_t sign = digits[0] == '-' ? 1 : 0;
            if (drop >= digits.size() - sign || digits.find_first_not_of('0', digits.size() - drop) != std::string::npos)
                return std::nullopt;
            digits.resize(digits.size() - drop);
        }
        const auto bytes = ac::Varint::parse(digits).bytes();
        std::string out(bytes.begin(), bytes.end());
        if (!fits_decimal_precision(out)) return std::nullopt;
        return out;
    }
    // Chooses DECIMAL or text from the raw values of the open page (the first row group holding
    // any): DECIMAL(38, s) when every decimal has the same scale s in [0, 38) and every unscaled
    // value has at most 38 digits (varint: scale 0), else text; then stores them in that form.
    void decide_number_form() {
        const std::string raw = std::move(values);
        values.clear();
        std::optional<std::int32_t> scale;
        std::string reason;
        for (std::size_t at = 0; at < raw.size();) {
            std::uint32_t size = 0;
            std::memcpy(&size, raw.data() + at, 4);
            const auto [s, unscaled] = split_number(ac::BytesView(reinterpret_cast<const std::uint8_t*>(raw.data()) + at + 4, size));
            at += 4 + size;
            if (!scale) scale = s;
            if (s != *scale) reason = "its scale varies";
            else if (s < 0 || s >= kDecimalPrecision) reason = "its scale " + std::to_string(s) + " is outside 0.." + std::to_string(kDecimalPrecision - 1);
            else if (!fits_decimal_precision(minimal_twos_complement(unscaled))) reason = "a value has over " + std::to_string(kDecimalPrecision) + " digits";
            if (!reason.empty()) break;
        }
        if (!reason.empty() && strict_decimal)
            throw DataError("column " + name + ": " + reason + " in the first row group holding a value, and "
                            "--parquet-decimal decimal was asked for; export with --parquet-decimal auto or text");
        if (reason.empty()) choose_decimal(scale.value_or(0));
        else choose_text(reason + " in the first row group holding a value");
        for (std::size_t at = 0; at < raw.size();) {
            std::uint32_t size = 0;
            std::memcpy(&size, raw.data() + at, 4);
            store_number(ac::BytesView(reinterpret_cast<const std::uint8_t*>(raw.data()) + at + 4, size));
            at += 4 + size;
        }
    }
    void choose_decimal(std::int32_t scale) {
        number_form = NumberForm::decimal;
        decimal_scale = scale;
        converted = DECIMAL;
        logical = L_DECIMAL;
    }
    void choose_text(std::string reason) {
        number_form = NumberForm::text;
        text_reason = std::move(reason);
        converted = UTF8;
        logical = L_STRING;
    }
    // The key/value note of a decimal or varint leaf ("" when there is nothing to say).
    std::string number_note() const {
        const std::string what = conversion == Conversion::varint ? "varint" : "decimal";
        if (number_form == NumberForm::text)
            return what + " as text (" + (conversion == Conversion::varint ? "decimal digits" : "each value keeps its own scale") +
                   "): " + text_reason +
                   (switched && rescaled > 0 ? "; " + std::to_string(rescaled) + " values of another scale written before the switch "
                                                   "(by an earlier version of acass) show the file's former scale (equal "
                                                   "numbers, e.g. 1.5 as 1.50)"
                                             : "");
        if (rescaled > 0)
            return "DECIMAL(" + std::to_string(kDecimalPrecision) + ", " + std::to_string(decimal_scale) + "): " +
                   std::to_string(rescaled) + " values of another scale were written at this scale exactly (equal numbers, e.g. 1.5 as 1.50)";
        return {};
    }

    std::size_t open_page_bytes() const { return levels.size() / 8 + values.size() + indexes.size() * 4; }
    /// The chunk's buffered bytes: its pages and its dictionary.
    std::size_t chunk_bytes() const { return chunk.size() + dictionary.size(); }

    // Encodes the open page into the chunk.
    void cut_page(ParquetOptions::Compression compression) {
        if (page_values == 0) return;
        std::string body;
        if (max_rep > 0) append_levels(body, reps);
        append_levels(body, levels);
        const bool indexed = dictionary_on && !indexes.empty();  // (a page of nulls only: PLAIN)
        if (indexed) {
            append_indexes(body, indexes, std::max(1, static_cast<int>(std::bit_width(entries.size() - 1))));
            dictionary_pages = true;
        } else if (physical == BOOLEAN) {  // PLAIN booleans: bit-packed, least significant bit first
            std::string bits((values.size() + 7) / 8, '\0');
            for (std::size_t i = 0; i < values.size(); ++i)
                if (values[i]) bits[i / 8] = static_cast<char>(bits[i / 8] | (1 << (i % 8)));
            body += bits;
        } else {
            body += values;
        }
        std::string compressed;
        const std::string* stored = &body;
        if (compression == ParquetOptions::Compression::snappy) {
            snappy::Compress(body.data(), body.size(), &compressed);
            stored = &compressed;
        }
        if (body.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
            throw std::runtime_error("column " + name + ": a page over 2 GB (one value too large?)");
        parquet::ThriftWriter header;
        header.field_i32(1, kDataPage);
        header.field_i32(2, static_cast<std::int32_t>(body.size()));
        header.field_i32(3, static_cast<std::int32_t>(stored->size()));
        header.begin_struct_field(5);  // DataPageHeader
        header.field_i32(1, static_cast<std::int32_t>(page_values));
        header.field_i32(2, indexed ? kEncodingRleDictionary : kEncodingPlain);
        header.field_i32(3, kEncodingRle);
        header.field_i32(4, kEncodingRle);
        header.end_struct();
        header.end_struct();
        chunk += header.bytes();
        chunk += *stored;
        chunk_uncompressed += static_cast<std::int64_t>(header.bytes().size() + body.size());
        chunk_values += page_values;
        levels.clear();
        reps.clear();
        values.clear();
        indexes.clear();
        page_values = 0;
    }

    // The chunk's dictionary page (PLAIN values), or nothing when no page used the dictionary.
    std::string dictionary_page(ParquetOptions::Compression compression) {
        if (!dictionary_pages) return {};
        std::string compressed;
        const std::string* stored = &dictionary;
        if (compression == ParquetOptions::Compression::snappy) {
            snappy::Compress(dictionary.data(), dictionary.size(), &compressed);
            stored = &compressed;
        }
        parquet::ThriftWriter header;
        header.field_i32(1, kDictionaryPage);
        header.field_i32(2, static_cast<std::int32_t>(dictionary.size()));
        header.field_i32(3, static_cast<std::int32_t>(stored->size()));
        header.begin_struct_field(7);  // DictionaryPageHeader
        header.field_i32(1, static_cast<std::int32_t>(entries.size()));
        header.field_i32(2, kEncodingPlain);
        header.end_struct();
        header.end_struct();
        chunk_uncompressed += static_cast<std::int64_t>(header.bytes().size() + dictionary.size());
        return header.take() + *stored;
    }

    // min/max as Parquet statistics bytes (PLAIN, byte arrays without their length).
    std::pair<std::string, std::string> min_max() const {
        std::string lo, hi;
        switch (physical) {
            case BOOLEAN:
                lo += static_cast<char>(imin);
                hi += static_cast<char>(imax);
                break;
            case INT32:
                put_le(lo, static_cast<std::int32_t>(imin));
                put_le(hi, static_cast<std::int32_t>(imax));
                break;
            case INT64:
                put_le(lo, imin);
                put_le(hi, imax);
                break;
            case FLOAT:  // zeros: -0.0 as the min, +0.0 as the max (parquet.thrift ColumnOrder)
                put_le(lo, dmin == 0 ? -0.0f : static_cast<float>(dmin));
                put_le(hi, dmax == 0 ? 0.0f : static_cast<float>(dmax));
                break;
            case DOUBLE:
                put_le(lo, dmin == 0 ? -0.0 : dmin);
                put_le(hi, dmax == 0 ? 0.0 : dmax);
                break;
            default:
                lo = smin;
                hi = smax;
        }
        return {lo, hi};
    }

    // Serializes the ColumnChunk of this column, whose pages start at `offset` in the file.
    // (`dictionary_bytes`: the size of its dictionary page, written first.)
    std::string column_chunk(std::int64_t offset, std::int64_t dictionary_bytes,
                             ParquetOptions::Compression compression) const {
        parquet::ThriftWriter w;
        w.field_i64(2, offset);
        w.begin_struct_field(3);  // ColumnMetaData
        w.field_i32(1, physical);
        w.begin_list_field(2, parquet::ThriftWriter::kI32, dictionary_bytes > 0 ? 3 : 2);
        w.list_i32(kEncodingPlain);
        w.list_i32(kEncodingRle);
        if (dictionary_bytes > 0) w.list_i32(kEncodingRleDictionary);
        w.begin_list_field(3, parquet::ThriftWriter::kBinary, path.size());
        for (const std::string& part : path) w.list_binary(part);
        w.field_i32(4, compression == ParquetOptions::Compression::snappy ? 1 : 0);
        w.field_i64(5, chunk_values);
        w.field_i64(6, chunk_uncompressed);
        w.field_i64(7, dictionary_bytes + static_cast<std::int64_t>(chunk.size()));
        w.field_i64(9, offset + dictionary_bytes);                 // data_page_offset
        if (dictionary_bytes > 0) w.field_i64(11, offset);         // dictionary_page_offset
        w.begin_struct_field(12);  // Statistics
        w.field_i64(3, nulls);
        if (has_min_max) {
            auto [lo, hi] = min_max();
            if (lo.size() <= kMaxStatisticsBytes && hi.size() <= kMaxStatisticsBytes) {
                w.field_binary(5, hi);
                w.field_binary(6, lo);
                w.field_bool(7, true);
                w.field_bool(8, true);
            }
        }
        if (physical == FLOAT || physical == DOUBLE) w.field_i64(9, nans);
        w.end_struct();
        w.end_struct();
        w.end_struct();
        return w.take();
    }

    // Serializes this column's SchemaElement.
    void schema_element(parquet::ThriftWriter& w) const {
        w.begin_list_struct();
        w.field_i32(1, physical);
        if (physical == FIXED_LEN_BYTE_ARRAY) w.field_i32(2, 16);
        w.field_i32(3, required ? kRequired : kOptional);
        w.field_binary(4, path.back());
        if (converted != NO_CONVERTED) w.field_i32(6, converted);
        if (logical == L_DECIMAL) {
            w.field_i32(7, decimal_scale);
            w.field_i32(8, kDecimalPrecision);
        }
        if (logical != L_NONE) {
            w.begin_struct_field(10);  // LogicalType (a union: one field)
            switch (logical) {
                case L_INTEGER:
                    w.begin_struct_field(L_INTEGER);
                    w.field_i8(1, int_bits);
                    w.field_bool(2, true);
                    w.end_struct();
                    break;
                case L_DECIMAL:
                    w.begin_struct_field(L_DECIMAL);
                    w.field_i32(1, decimal_scale);
                    w.field_i32(2, kDecimalPrecision);
                    w.end_struct();
                    break;
                case L_TIMESTAMP:
                case L_TIME:
                    w.begin_struct_field(logical);
                    w.field_bool(1, logical == L_TIMESTAMP);  // timestamps are UTC; a time of day is not
                    w.begin_struct_field(2);                  // TimeUnit
                    w.field_empty_struct(logical == L_TIMESTAMP ? 1 : 3);  // MILLIS : NANOS
                    w.end_struct();
                    w.end_struct();
                    break;
                default:
                    w.field_empty_struct(logical);
            }
            w.end_struct();
        }
        w.end_struct();
    }
};

namespace {

// The leaf column of a value of a non-nested type (or one written as JSON text).
std::unique_ptr<ParquetWriter::Column> plan_column(const ac::DataTypePtr& type, std::string name) {
    auto c = std::make_unique<ParquetWriter::Column>();
    c->name = std::move(name);
    c->type = type;
    auto integer = [&](Conversion conversion, PhysicalType physical, std::int8_t bits, ConvertedType converted) {
        c->conversion = conversion;
        c->physical = physical;
        c->int_bits = bits;
        c->converted = converted;
        c->logical = L_INTEGER;
    };
    auto text = [&](Conversion conversion, std::string note) {
        c->conversion = conversion;
        c->physical = BYTE_ARRAY;
        c->converted = UTF8;
        c->logical = L_STRING;
        c->note = std::move(note);
    };
    using K = ac::TypeKind;
    switch (type->kind) {
        case K::boolean:
            c->conversion = Conversion::boolean;
            c->physical = BOOLEAN;
            break;
        case K::tinyint:
            integer(Conversion::i8, INT32, 8, INT_8);
            break;
        case K::smallint:
            integer(Conversion::i16, INT32, 16, INT_16);
            break;
        case K::int_:
            integer(Conversion::i32, INT32, 32, INT_32);
            break;
        case K::bigint:
        case K::counter:
            integer(Conversion::i64, INT64, 64, INT_64);
            break;
        case K::float_:
            c->conversion = Conversion::f32;
            c->physical = FLOAT;
            break;
        case K::double_:
            c->conversion = Conversion::f64;
            c->physical = DOUBLE;
            break;
        case K::ascii:
        case K::varchar:
            text(Conversion::bytes, "");
            break;
        case K::blob:
        case K::custom:
            c->conversion = Conversion::bytes;
            c->physical = BYTE_ARRAY;
            break;
        case K::timestamp:
            c->conversion = Conversion::timestamp;
            c->physical = INT64;
            c->converted = TIMESTAMP_MILLIS;
            c->logical = L_TIMESTAMP;
            break;
        case K::date:
            c->conversion = Conversion::date;
            c->physical = INT32;
            c->converted = DATE;
            c->logical = L_DATE;
            break;
        case K::time:
            c->conversion = Conversion::time;
            c->physical = INT64;
            c->logical = L_TIME;
            break;
        case K::uuid:
        case K::timeuuid:
            c->conversion = Conversion::uuid;
            c->physical = FIXED_LEN_BYTE_ARRAY;
            c->logical = L_UUID;
            break;
        case K::inet:
            text(Conversion::inet, "inet as address text");
            break;
        case K::varint:
        case K::decimal:  // DECIMAL or text: chosen by the first row group holding a value
            c->conversion = type->kind == K::varint ? Conversion::varint : Conversion::decimal;
            c->physical = BYTE_ARRAY;
            c->number_form = ParquetWriter::Column::NumberForm::undecided;
            break;
        case K::duration:
            text(Conversion::duration, "duration as a CQL duration literal (months, days, nanoseconds)");
            break;
        default:  // vector (and collections nested too deep)
            c->conversion = Conversion::json;
            c->physical = BYTE_ARRAY;
            c->converted = JSON;
            c->logical = L_JSON;
            c->note = "JSON text of the CQL value (as in JSON lines exports)";
    }
    return c;
}

// Levels are one byte each here; nesting deeper than this is written as JSON text.
constexpr std::uint8_t kMaxNestedDefinitionLevel = 200;

// The Parquet shape of a CQL value named `name` under `path`, whose parent is present at
// definition level `parent_def` and repeated at level `rep`; appends its leaves to `leaves`.
//   list<T>, set<T>  -> optional group name (LIST) { repeated group list { optional T element; } }
//   map<K, V>        -> optional group name (MAP) { repeated group key_value { required K key; optional V value; } }
//   tuple<A, B>      -> optional group name { optional A _1; optional B _2; }   (Spark's tuple field names)
//   UDT              -> optional group name { optional <field type> <field name>; ... }
ParquetWriter::Shape plan_shape(const ac::DataTypePtr& type, const std::string& name, std::vector<std::string> path,
                                std::uint8_t parent_def, std::uint8_t rep, bool required,
                                std::vector<std::unique_ptr<ParquetWriter::Column>>& leaves) {
    using K = ac::TypeKind;
    using Shape = ParquetWriter::Shape;
    Shape s;
    s.name = name;
    s.type = type.get();
    s.def = static_cast<std::uint8_t>(parent_def + (required ? 0 : 1));
    s.rep = rep;
    s.required = required;
    s.first_leaf = leaves.size();
    path.push_back(name);
    const bool nestable = s.def < kMaxNestedDefinitionLevel && !type->params.empty() &&
                          (type->kind == K::list || type->kind == K::set || type->kind == K::map ||
                           type->kind == K::tuple || type->kind == K::udt);
    if (!nestable) {
        std::string dotted;
        for (const std::string& part : path) dotted += (dotted.empty() ? "" : ".") + part;
        auto leaf = plan_column(type, dotted);
        leaf->path = std::move(path);
        leaf->max_def = s.def;
        leaf->max_rep = rep;
        leaf->required = required;
        leaves.push_back(std::move(leaf));
    } else if (type->kind == K::list || type->kind == K::set) {
        s.kind = Shape::Kind::list;
        auto inner = path;
        inner.push_back("list");
        s.children.push_back(plan_shape(type->params[0], "element", inner, s.def + 1, rep + 1, false, leaves));
    } else if (type->kind == K::map) {
        s.kind = Shape::Kind::map;
        auto inner = path;
        inner.push_back("key_value");
        s.children.push_back(plan_shape(type->params[0], "key", inner, s.def + 1, rep + 1, true, leaves));
        s.children.push_back(plan_shape(type->params[1], "value", inner, s.def + 1, rep + 1, false, leaves));
    } else {
        s.kind = Shape::Kind::group;
        for (std::size_t i = 0; i < type->params.size(); ++i) {
            const std::string field = type->kind == K::udt && i < type->field_names.size() ? type->field_names[i]
                                                                                          : "_" + std::to_string(i + 1);
            s.children.push_back(plan_shape(type->params[i], field, path, s.def, rep, false, leaves));
        }
    }
    s.end_leaf = leaves.size();
    return s;
}

// Reads the elements of a collection, tuple or UDT value ([int] count, then [bytes] each).
class ElementReader {
public:
    ElementReader(ac::BytesView value, const std::string& column)
        : p_(value.data()), end_(value.data() + value.size()), column_(column) {}
    std::int32_t count() {
        const std::int32_t n = i32();
        if (n < 0) fail("a negative element count");
        return n;
    }
    std::optional<ac::BytesView> element() {
        const std::int32_t n = i32();
        if (n < 0) return std::nullopt;
        need(static_cast<std::size_t>(n));
        const ac::BytesView v(p_, static_cast<std::size_t>(n));
        p_ += n;
        return v;
    }
    bool at_end() const noexcept { return p_ == end_; }
    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error("column " + column_ + ": " + what + " in a collection, tuple or UDT value");
    }

private:
    std::int32_t i32() {
        need(4);
        const auto v = ac::detail::load_be<std::int32_t>(p_);
        p_ += 4;
        return v;
    }
    void need(std::size_t n) const {
        if (static_cast<std::size_t>(end_ - p_) < n) fail("a truncated value");
    }
    const std::uint8_t* p_;
    const std::uint8_t* end_;
    const std::string& column_;
};

// Dremel's record shredding: writes `raw` (the value of shape `s`, null when empty) into the
// leaves under `s`, each with repetition level `rep` for its first entry.
void shred(std::vector<std::unique_ptr<ParquetWriter::Column>>& leaves, const ParquetWriter::Shape& s,
           const std::optional<ac::BytesView>& raw, std::uint8_t rep) {
    using Shape = ParquetWriter::Shape;
    if (s.kind == Shape::Kind::leaf) return leaves[s.first_leaf]->append(rep, raw);
    auto missing = [&](std::uint8_t def) {
        for (std::size_t l = s.first_leaf; l < s.end_leaf; ++l) leaves[l]->append_null(rep, def);
    };
    if (!raw || raw->empty()) return missing(static_cast<std::uint8_t>(s.def - 1));  // null (zero bytes too)
    ElementReader in(*raw, s.name);
    if (s.kind == Shape::Kind::group) {
        // A UDT value may end before its last fields (added to the type later): those are null.
        for (const Shape& field : s.children) shred(leaves, field, in.at_end() ? std::nullopt : in.element(), rep);
    } else {
        const std::int32_t n = in.count();
        if (n == 0) return missing(s.def);  // present but empty: [] / {}
        const std::uint8_t inner = s.children.front().rep;
        for (std::int32_t i = 0; i < n; ++i) {
            const std::uint8_t r = i == 0 ? rep : inner;
            for (const Shape& child : s.children) shred(leaves, child, in.element(), r);  // element, or key and value
        }
    }
    if (!in.at_end()) in.fail("trailing bytes");
}

// SchemaElements of the non-leaf nodes of `s` (and its leaves', from `leaves`), depth first.
std::size_t schema_node_count(const ParquetWriter::Shape& s) {
    if (s.kind == ParquetWriter::Shape::Kind::leaf) return 1;
    std::size_t n = s.kind == ParquetWriter::Shape::Kind::group ? 1 : 2;  // list/map: + the repeated group
    for (const auto& child : s.children) n += schema_node_count(child);
    return n;
}

void add_key_value(std::string& list, std::size_t& count, std::string_view key, std::string_view value) {
    parquet::ThriftWriter w;
    w.field_binary(1, key);
    w.field_binary(2, value);
    w.end_struct();
    list += w.bytes();
    ++count;
}

}  // namespace

ParquetWriter::ParquetWriter(std::string path, const ac::Columns& columns, ParquetOptions options,
                             const std::optional<std::string>& resume_state)
    : path_(std::move(path)), options_(options) {
    if (columns.empty()) throw CliUsageError("Parquet needs at least one column");
    for (const ac::Column& source : columns) {
        shapes_.push_back(plan_shape(source.type, source.name, {}, 0, 0, false, columns_));
        add_key_value(key_value_metadata_, key_value_count_, "acass.cql_type." + source.name, source.type->cql_name());
    }
    for (auto& leaf : columns_) {  // text and blobs: dictionary pages while they pay
        if (leaf->physical == BYTE_ARRAY) leaf->dictionary_limit = options_.dictionary_bytes;
        if (leaf->number_form == Column::NumberForm::undecided && options_.decimal_as_text)
            leaf->choose_text("--parquet-decimal text");
        leaf->strict_decimal = options_.decimal_strict;
        leaf->compression = options_.compression;
        leaf->reset_chunk();
    }
    if (!resume_state) {
        remove_rewrite_leftovers(path_);
        file_ = std::fopen(path_.c_str(), "w+b");  // (read back by a rewrite)
        if (!file_) throw_file_error(path_, "open the output file");
        write_bytes("PAR1");
        // In the file now: the first resume state (saved before any row group) records 4 bytes,
        // and a run killed before its first row group must find them.
        if (std::fflush(file_) != 0) throw_file_error(path_, "write");
        committed_bytes_ = 4;
        return;
    }
    // "acass-parquet-2 <committed bytes> <committed rows> <row group hex>,<row group hex>... <forms>"
    // (forms: per leaf "-", or for decimal/varint leaves "u" undecided, "t" text, "d<scale>r<rescaled>"
    // DECIMAL). acass-parquet-1 (no forms) wrote decimal and varint as text.
    std::istringstream in(*resume_state);
    std::string magic, groups, forms;
    in >> magic >> committed_bytes_ >> committed_rows_ >> groups;
    if ((magic != "acass-parquet-1" && magic != "acass-parquet-2") || !in || committed_bytes_ < 4)
        throw FileError("resume state of " + path_ + " is not a Parquet writer state");
    if (magic == "acass-parquet-2" && !(in >> forms)) throw FileError("resume state of " + path_ + " has no column forms");
    if (std::string rewrites; in >> rewrites) {  // "g<N>": the file was rewritten N times
        if (rewrites.size() < 2 || rewrites[0] != 'g' || rewrites.find_first_not_of("0123456789", 1) != std::string::npos ||
            rewrites.size() > 6)
            throw FileError("resume state of " + path_ + " has a malformed rewrite count");
        generation_ = std::stoi(rewrites.substr(1));
    }
    // Killed after a rewrite replaced the file but before a state of the new file was saved:
    // the file this state describes is the one the rewrite kept aside.
    if (const std::string kept = backup_path(generation_); ::access(kept.c_str(), F_OK) == 0 &&
                                                            std::rename(kept.c_str(), path_.c_str()) != 0)
        throw_file_error(kept, "restore the file a rewrite replaced");
    std::remove(rewrite_path().c_str());                                   // an unfinished rewrite
    if (generation_ > 0) std::remove(backup_path(generation_ - 1).c_str());  // the state is newer than it
    restore_number_forms(magic == "acass-parquet-1" ? std::nullopt : std::optional<std::string>(forms));
    try {
        for (std::size_t start = 0; start < groups.size();) {
            std::size_t comma = groups.find(',', start);
            if (comma == std::string::npos) comma = groups.size();
            if (groups.substr(start, comma - start) != "-") row_groups_.push_back(unhex(groups.substr(start, comma - start)));
            start = comma + 1;
        }
    } catch (const std::invalid_argument&) {
        throw FileError("resume state of " + path_ + " has a malformed row group");
    }
    file_ = std::fopen(path_.c_str(), "r+b");
    if (!file_) throw_file_error(path_, "open the output file to continue");
    struct stat st {};
    if (::fstat(fileno(file_), &st) != 0) throw_file_error(path_, "stat");
    if (st.st_size < committed_bytes_)
        throw FileError("output file " + path_ + " is shorter (" + std::to_string(st.st_size) +
                        " bytes) than the resume file records (" + std::to_string(committed_bytes_) +
                        "); it was modified");
    // Cut off a row group (or footer) written after the last recorded one.
    if (::ftruncate(fileno(file_), committed_bytes_) != 0) throw_file_error(path_, "truncate");
    if (std::fseek(file_, 0, SEEK_END) != 0) throw_file_error(path_, "seek");
}

void ParquetWriter::remove_rewrite_leftovers(const std::string& path) {
    namespace fs = std::filesystem;
    const fs::path p(path);
    const std::string prefix = p.filename().string() + ".acass-";
    std::error_code ec;
    for (fs::directory_iterator it(p.parent_path().empty() ? fs::path(".") : p.parent_path(), ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.rfind(prefix, 0) == 0 &&
            (name == prefix + "rewrite" || (name.rfind(prefix + "gen", 0) == 0 && name.size() > prefix.size() + 3 &&
                                            name.find_first_not_of("0123456789", prefix.size() + 3) == std::string::npos)))
            fs::remove(it->path(), ec);
    }
}

void ParquetWriter::drop_backup_once_saved() {
    if (!backup_.empty() && state_generation_ == generation_) {
        std::remove(backup_.c_str());
        backup_.clear();
    }
}

ParquetWriter::~ParquetWriter() {
    if (file_) std::fclose(file_);
}

void ParquetWriter::write_bytes(const std::string& bytes) {
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
        throw_file_error(path_, "write");
}

std::int64_t ParquetWriter::buffered_bytes() const noexcept {
    std::int64_t total = 0;
    for (const auto& c : columns_) total += static_cast<std::int64_t>(c->chunk_bytes() + c->open_page_bytes());
    return total;
}

void ParquetWriter::check_not_failed() const {
    if (!failure_.empty())
        throw std::runtime_error("Parquet file " + path_ + " stays at its last complete row group: a page failed (" +
                                 failure_ + ")");
}

void ParquetWriter::write_page(const ac::Page& page) {
    check_not_failed();
    drop_backup_once_saved();
    try {
        shred_page(page);
    } catch (const std::exception& e) {
        // Some leaves may hold part of the page: no row group may be written from them.
        failure_ = e.what();
        throw;
    }
    buffered_rows_ += static_cast<std::int64_t>(page.size());
    if ((options_.row_group_rows > 0 && buffered_rows_ >= options_.row_group_rows) ||
        buffered_bytes() >= options_.row_group_bytes)
        flush_row_group();
}

void ParquetWriter::shred_page(const ac::Page& page) {
    if (page.columns().size() != shapes_.size())
        throw std::runtime_error("a page with " + std::to_string(page.columns().size()) + " columns in a Parquet file of " +
                                 std::to_string(shapes_.size()));
    for (std::size_t i = 0; i < shapes_.size(); ++i) {
        const Shape& shape = shapes_[i];
        for (const ac::Row row : page) shred(columns_, shape, row.raw(i), 0);
        // Pages end between rows only (a row's repeated values never span two pages).
        for (std::size_t l = shape.first_leaf; l < shape.end_leaf; ++l)
            if (columns_[l]->open_page_bytes() >= options_.page_bytes &&
                columns_[l]->number_form != Column::NumberForm::undecided)  // (its raw values wait for the form)
                columns_[l]->cut_page(options_.compression);
    }
}

void ParquetWriter::flush_row_group() {
    check_not_failed();
    drop_backup_once_saved();
    bool rewrite = false;
    for (const auto& c : columns_) rewrite = rewrite || (c->rewrite_pending && !row_groups_.empty());
    if (rewrite) {
        try {
            rewrite_file_so_far();  // file_ is now the rewritten copy; the row group goes there too
        } catch (const std::exception& e) {
            failure_ = e.what();  // the file and its state stay as they were
            throw;
        }
    }
    for (auto& c : columns_) c->rewrite_pending = false;
    if (buffered_rows_ > 0) {
        const std::int64_t group_offset = committed_bytes_;
        std::int64_t offset = group_offset, uncompressed = 0;
        parquet::ThriftWriter group;
        group.begin_list_field(1, parquet::ThriftWriter::kStruct, columns_.size());
        for (auto& column : columns_) {
            Column& c = *column;
            if (c.number_form == Column::NumberForm::undecided && !c.values.empty()) c.decide_number_form();
            c.cut_page(options_.compression);
            const std::string dictionary = c.dictionary_page(options_.compression);
            if (c.dictionary_pages && !c.dictionary_on) ++dictionary_fallbacks_;
            write_bytes(dictionary);
            write_bytes(c.chunk);
            const auto dictionary_bytes = static_cast<std::int64_t>(dictionary.size());
            group.raw(c.column_chunk(offset, dictionary_bytes, options_.compression));  // a whole ColumnChunk struct
            offset += dictionary_bytes + static_cast<std::int64_t>(c.chunk.size());
            uncompressed += c.chunk_uncompressed;
            c.reset_chunk();
        }
        group.field_i64(2, uncompressed);
        group.field_i64(3, buffered_rows_);
        group.field_i64(5, group_offset);
        group.field_i64(6, offset - group_offset);
        group.field_i16(7, static_cast<std::int16_t>(row_groups_.size()));
        group.end_struct();
        std::string serialized = group.take();
        row_groups_.push_back(std::move(serialized));
        committed_bytes_ = offset;
        committed_rows_ += buffered_rows_;
        buffered_rows_ = 0;
    }
    if (!rewrite) {
        if (std::fflush(file_) != 0) throw_file_error(path_, "write");
        return;
    }
    // The rewritten copy replaces the file: durable first, then the old file is set aside (a
    // run resumed from a state saved before this rewrite takes it back), then the rename.
    const std::string copy = rewrite_path(), kept = backup_path(generation_);
    if (std::fflush(file_) != 0 || ::fsync(fileno(file_)) != 0) throw_file_error(copy, "write");
    if (std::rename(path_.c_str(), kept.c_str()) != 0) throw_file_error(path_, "set the file aside for its rewrite");
    if (std::rename(copy.c_str(), path_.c_str()) != 0) throw_file_error(copy, "rename the rewritten file");
    fsync_directory_of(path_);
    if (!backup_.empty()) std::remove(backup_.c_str());
    backup_ = kept;
    ++generation_;
}

void ParquetWriter::rewrite_file_so_far() {
    if (std::fflush(file_) != 0) throw_file_error(path_, "write");
    const std::string copy = rewrite_path();
    std::FILE* out = std::fopen(copy.c_str(), "w+b");
    if (!out) throw_file_error(copy, "create the rewritten file");
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out_guard(out, &std::fclose);
    auto write_out = [&](std::string_view bytes) {
        if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), out) != bytes.size()) throw_file_error(copy, "write");
    };
    std::string buffer;
    auto read_at = [&](std::int64_t at, std::int64_t size) -> const std::string& {
        if (at < 4 || size < 0 || at + size > committed_bytes_) throw std::runtime_error("a row group beyond the file");
        buffer.resize(static_cast<std::size_t>(size));
        for (std::int64_t done = 0; done < size;) {
            const ssize_t n = ::pread(fileno(file_), buffer.data() + done, static_cast<std::size_t>(size - done), at + done);
            if (n <= 0) throw_file_error(path_, "read back for the rewrite");
            done += n;
        }
        return buffer;
    };
    write_out("PAR1");
    std::int64_t offset = 4;
    std::vector<std::string> groups;
    for (std::size_t g = 0; g < row_groups_.size(); ++g) {
        std::string_view in(row_groups_[g]);
        parquet::ThriftValue group = parquet::read_thrift_struct(in);
        parquet::ThriftValue* chunks = group.field(1);
        if (!chunks || chunks->elements.size() != columns_.size()) throw std::runtime_error("a row group of another schema");
        const std::int64_t group_offset = offset;
        std::int64_t uncompressed = 0;
        parquet::ThriftWriter w;
        w.begin_list_field(1, parquet::ThriftWriter::kStruct, columns_.size());
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            parquet::ThriftValue& chunk = chunks->elements[i];
            parquet::ThriftValue* meta = chunk.field(3);
            if (!meta || !meta->field(9) || !meta->field(7)) throw std::runtime_error("a column chunk without its metadata");
            parquet::ThriftValue* dictionary_offset = meta->field(11);
            const std::int64_t start = dictionary_offset ? dictionary_offset->integer : meta->integer_of(9);
            std::int64_t size = meta->integer_of(7);
            const Column& c = *columns_[i];
            if (!c.rewrite_pending) {  // copied as it is, at its new offset
                for (std::int64_t done = 0; done < size; done += std::int64_t{1} << 20)
                    write_out(read_at(start + done, std::min<std::int64_t>(size - done, std::int64_t{1} << 20)));
                const std::int64_t shift = offset - start;
                for (parquet::ThriftValue* v : {chunk.field(2), meta->field(9), dictionary_offset})
                    if (v) v->integer += shift;
                uncompressed += meta->integer_of(6);
                parquet::write_thrift_value(w, 0, chunk);
            } else {  // transcoded: DECIMAL pages to text pages
                const auto codec = meta->integer_of(4) == 1 ? ParquetOptions::Compression::snappy : ParquetOptions::Compression::none;
                const std::unique_ptr<Column> text = c.twin();
                text->transcode_pages(read_at(start, size), codec);
                const std::string dictionary = text->dictionary_page(options_.compression);
                write_out(dictionary);
                write_out(text->chunk);
                w.raw(text->column_chunk(offset, static_cast<std::int64_t>(dictionary.size()), options_.compression));
                uncompressed += text->chunk_uncompressed;
                size = static_cast<std::int64_t>(dictionary.size() + text->chunk.size());
            }
            offset += size;
        }
        w.field_i64(2, uncompressed);
        w.field_i64(3, group.integer_of(3));
        w.field_i64(5, group_offset);
        w.field_i64(6, offset - group_offset);
        w.field_i16(7, static_cast<std::int16_t>(g));
        w.end_struct();
        groups.push_back(w.take());
    }
    std::fclose(file_);
    file_ = out_guard.release();
    row_groups_ = std::move(groups);
    committed_bytes_ = offset;
}

void ParquetWriter::close() {
    if (!file_) return;
    flush_row_group();  // (throws after a failed page: the file keeps no footer, its resume state stays valid)
    // A decimal or varint column without a single value: DECIMAL(38, 0).
    for (auto& c : columns_)
        if (c->number_form == Column::NumberForm::undecided) c->choose_decimal(0);
    std::string key_values = key_value_metadata_;  // + "acass.note.<leaf path>" for the leaves that need one
    std::size_t key_value_count = key_value_count_;
    for (const auto& c : columns_) {
        const std::string note = c->number_form == Column::NumberForm::none ? c->note : c->number_note();
        if (!note.empty()) add_key_value(key_values, key_value_count, "acass.note." + c->name, note);
    }
    parquet::ThriftWriter meta;
    meta.field_i32(1, 2);  // version
    std::size_t nodes = 1;
    for (const Shape& shape : shapes_) nodes += schema_node_count(shape);
    meta.begin_list_field(2, parquet::ThriftWriter::kStruct, nodes);
    meta.begin_list_struct();  // the root: a group of every column
    meta.field_binary(4, "schema");
    meta.field_i32(5, static_cast<std::int32_t>(shapes_.size()));
    meta.end_struct();
    for (const Shape& shape : shapes_) write_schema(meta, shape);
    meta.field_i64(3, committed_rows_);
    meta.begin_list_field(4, parquet::ThriftWriter::kStruct, row_groups_.size());
    for (const std::string& g : row_groups_) meta.raw(g);
    meta.begin_list_field(5, parquet::ThriftWriter::kStruct, key_value_count);
    meta.raw(key_values);
    meta.field_binary(6, "acass (async-cassandra-cpp)");
    meta.begin_list_field(7, parquet::ThriftWriter::kStruct, columns_.size());  // ColumnOrder per leaf
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        meta.begin_list_struct();
        meta.field_empty_struct(1);  // TYPE_ORDER
        meta.end_struct();
    }
    meta.end_struct();
    std::string footer = meta.take();
    put_le(footer, static_cast<std::uint32_t>(footer.size()));
    footer += "PAR1";
    write_bytes(footer);
    std::FILE* f = file_;
    file_ = nullptr;
    if (std::fclose(f) != 0) throw_file_error(path_, "close");
    // The file before the last rewrite: no longer needed once the state of the new file was
    // handed out (or when no state was ever asked for: no resume file).
    if (!backup_.empty() && (states_handed_out_ == 0 || state_generation_ == generation_)) {
        std::remove(backup_.c_str());
        backup_.clear();
    }
}

void ParquetWriter::write_schema(parquet::ThriftWriter& w, const Shape& s) const {
    if (s.kind == Shape::Kind::leaf) return columns_[s.first_leaf]->schema_element(w);
    auto group = [&](const std::string& name, std::int32_t repetition, std::size_t children, std::int32_t converted,
                     std::int16_t logical) {
        w.begin_list_struct();
        w.field_i32(3, repetition);
        w.field_binary(4, name);
        w.field_i32(5, static_cast<std::int32_t>(children));
        if (converted != NO_CONVERTED) w.field_i32(6, converted);
        if (logical != L_NONE) {
            w.begin_struct_field(10);
            w.field_empty_struct(logical);
            w.end_struct();
        }
        w.end_struct();
    };
    const std::int32_t repetition = s.required ? kRequired : kOptional;
    switch (s.kind) {
        case Shape::Kind::list:
            group(s.name, repetition, 1, LIST, L_LIST);
            group("list", kRepeated, 1, NO_CONVERTED, L_NONE);
            break;
        case Shape::Kind::map:
            group(s.name, repetition, 1, MAP, L_MAP);
            group("key_value", kRepeated, 2, NO_CONVERTED, L_NONE);
            break;
        default:
            group(s.name, repetition, s.children.size(), NO_CONVERTED, L_NONE);
    }
    for (const Shape& child : s.children) write_schema(w, child);
}

std::string ParquetWriter::resume_state() const {
    ++states_handed_out_;
    state_generation_ = generation_;
    std::string text = "acass-parquet-2 " + std::to_string(committed_bytes_) + " " + std::to_string(committed_rows_) + " ";
    if (row_groups_.empty()) text += "-";
    for (std::size_t i = 0; i < row_groups_.size(); ++i) text += (i ? "," : "") + hex(row_groups_[i]);
    text += ' ';
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        const Column& c = *columns_[i];
        if (i) text += ',';
        switch (c.number_form) {
            case Column::NumberForm::none: text += '-'; break;
            case Column::NumberForm::undecided: text += 'u'; break;
            case Column::NumberForm::text: text += c.switched ? 's' : 't'; break;
            case Column::NumberForm::decimal:
                text += 'd' + std::to_string(c.decimal_scale) + 'r' + std::to_string(c.rescaled);
        }
    }
    if (generation_ > 0) text += " g" + std::to_string(generation_);
    return text;
}

void ParquetWriter::restore_number_forms(const std::optional<std::string>& forms) {
    auto refuse = [&](const std::string& why) { throw FileError("resume state of " + path_ + ": " + why); };
    std::vector<std::string> items;
    if (forms)
        for (std::size_t start = 0;;) {
            const std::size_t comma = forms->find(',', start);
            items.push_back(forms->substr(start, comma == std::string::npos ? std::string::npos : comma - start));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    if (forms && items.size() != columns_.size()) refuse("its column forms do not match the columns");
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        Column& c = *columns_[i];
        const bool number = c.conversion == Conversion::varint || c.conversion == Conversion::decimal;
        if (!forms) {  // acass-parquet-1 wrote them as text
            if (number) c.choose_text("written as text by an earlier version of acass (the export was resumed)");
            continue;
        }
        const std::string& f = items[i];
        if (!number) {
            if (f != "-") refuse("its column forms do not match the columns");
            continue;
        }
        if ((f == "t" || f == "s") && options_.decimal_strict)
            refuse("column " + c.name + " is text in the part already written; --parquet-decimal decimal needs a fresh export");
        if (f == "s") {
            c.choose_text("switched mid-file by the run this one resumes (a value did not fit the DECIMAL chosen by the "
                          "first row group holding a value); the row groups written before were rewritten as text");
            c.switched = true;
        } else if (f == "t") {
            if (c.number_form != Column::NumberForm::text) c.choose_text("in the part written before a resume");
        } else if (f == "u") {
            if (c.number_form == Column::NumberForm::text)
                refuse("the earlier run did not ask for --parquet-decimal text (start the export from scratch)");
        } else if (f.size() > 1 && f[0] == 'd') {
            if (c.number_form == Column::NumberForm::text)
                refuse("column " + c.name + " is DECIMAL in the part already written; --parquet-decimal text needs a fresh export");
            long long scale = 0, rescaled = 0;
            if (std::sscanf(f.c_str(), "d%lldr%lld", &scale, &rescaled) != 2 || scale < 0 || scale >= kDecimalPrecision)
                refuse("a malformed column form '" + f + "'");
            c.choose_decimal(static_cast<std::int32_t>(scale));
            c.rescaled = rescaled;
        } else {
            refuse("a malformed column form '" + f + "'");
        }
    }
}

}  // namespace acass_cli

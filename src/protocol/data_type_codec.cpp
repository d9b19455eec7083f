#include "protocol/data_type_codec.hpp"

#include <charconv>

namespace async_cassandra {

namespace {
std::shared_ptr<DataType> make(TypeKind kind) {
    auto t = std::make_shared<DataType>();
    t->kind = kind;
    return t;
}
}  // namespace

DataTypePtr DataType::simple(TypeKind kind) { return make(kind); }

DataTypePtr DataType::list_of(DataTypePtr element) {
    auto t = make(TypeKind::list);
    t->params = {std::move(element)};
    return t;
}
DataTypePtr DataType::set_of(DataTypePtr element) {
    auto t = make(TypeKind::set);
    t->params = {std::move(element)};
    return t;
}
DataTypePtr DataType::map_of(DataTypePtr key, DataTypePtr value) {
    auto t = make(TypeKind::map);
    t->params = {std::move(key), std::move(value)};
    return t;
}
DataTypePtr DataType::tuple_of(std::vector<DataTypePtr> elements) {
    auto t = make(TypeKind::tuple);
    t->params = std::move(elements);
    return t;
}
DataTypePtr DataType::vector_of(DataTypePtr element, std::int32_t dimension) {
    auto t = make(TypeKind::vector);
    t->params = {std::move(element)};
    t->vector_dimension = dimension;
    return t;
}

const char* to_string(TypeKind kind) noexcept {
    switch (kind) {
        case TypeKind::custom: return "custom";
        case TypeKind::ascii: return "ascii";
        case TypeKind::bigint: return "bigint";
        case TypeKind::blob: return "blob";
        case TypeKind::boolean: return "boolean";
        case TypeKind::counter: return "counter";
        case TypeKind::decimal: return "decimal";
        case TypeKind::double_: return "double";
        case TypeKind::float_: return "float";
        case TypeKind::int_: return "int";
        case TypeKind::timestamp: return "timestamp";
        case TypeKind::uuid: return "uuid";
        case TypeKind::varchar: return "text";
        case TypeKind::varint: return "varint";
        case TypeKind::timeuuid: return "timeuuid";
        case TypeKind::inet: return "inet";
        case TypeKind::date: return "date";
        case TypeKind::time: return "time";
        case TypeKind::smallint: return "smallint";
        case TypeKind::tinyint: return "tinyint";
        case TypeKind::duration: return "duration";
        case TypeKind::list: return "list";
        case TypeKind::map: return "map";
        case TypeKind::set: return "set";
        case TypeKind::udt: return "udt";
        case TypeKind::tuple: return "tuple";
        case TypeKind::vector: return "vector";
    }
    return "unknown";
}

std::string DataType::cql_name() const {
    auto join = [this](std::string out) {
        for (std::size_t i = 0; i < params.size(); ++i) {
            if (i) out += ", ";
            out += params[i]->cql_name();
        }
        return out;
    };
    switch (kind) {
        case TypeKind::custom: return "'" + custom_class + "'";
        case TypeKind::list:
        case TypeKind::set:
        case TypeKind::map: return join(std::string(to_string(kind)) + "<") + ">";
        case TypeKind::tuple: return join("frozen<tuple<") + ">>";
        case TypeKind::udt: return "frozen<" + udt_keyspace + "." + udt_name + ">";
        case TypeKind::vector:
            return "vector<" + params.at(0)->cql_name() + ", " + std::to_string(vector_dimension) + ">";
        default: return to_string(kind);
    }
}

bool DataType::operator==(const DataType& other) const {
    if (kind != other.kind || custom_class != other.custom_class || udt_keyspace != other.udt_keyspace ||
        udt_name != other.udt_name || field_names != other.field_names ||
        vector_dimension != other.vector_dimension || params.size() != other.params.size())
        return false;
    for (std::size_t i = 0; i < params.size(); ++i)
        if (!(*params[i] == *other.params[i])) return false;
    return true;
}

}  // namespace async_cassandra

namespace async_cassandra::protocol {

namespace {
constexpr int kMaxTypeDepth = 64;
constexpr std::string_view kMarshalPrefix = "org.apache.cassandra.db.marshal.";

bool is_simple_wire_kind(std::uint16_t id) {
    return (id >= 0x0001 && id <= 0x0015 && id != 0x000A);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

// Splits "A,B(C,D),E" at top-level commas.
std::vector<std::string_view> split_top_level(std::string_view s) {
    std::vector<std::string_view> parts;
    int depth = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '(') ++depth;
        else if (s[i] == ')') --depth;
        else if (s[i] == ',' && depth == 0) {
            parts.push_back(trim(s.substr(start, i - start)));
            start = i + 1;
        }
    }
    parts.push_back(trim(s.substr(start)));
    return parts;
}

DataTypePtr parse_marshal(std::string_view name, int depth) {
    if (depth > kMaxTypeDepth)
        throw ProtocolError(ProtocolErrc::invalid_value, "marshal class nested too deeply");
    std::string_view full = trim(name);
    std::string_view bare = full;
    if (bare.starts_with(kMarshalPrefix)) bare.remove_prefix(kMarshalPrefix.size());
    std::string_view args;
    if (auto open = bare.find('('); open != std::string_view::npos && bare.back() == ')') {
        args = bare.substr(open + 1, bare.size() - open - 2);
        bare = bare.substr(0, open);
    }
    static const std::pair<std::string_view, TypeKind> simple[] = {
        {"AsciiType", TypeKind::ascii},       {"LongType", TypeKind::bigint},
        {"BytesType", TypeKind::blob},        {"BooleanType", TypeKind::boolean},
        {"CounterColumnType", TypeKind::counter}, {"DecimalType", TypeKind::decimal},
        {"DoubleType", TypeKind::double_},    {"FloatType", TypeKind::float_},
        {"Int32Type", TypeKind::int_},        {"TimestampType", TypeKind::timestamp},
        {"UUIDType", TypeKind::uuid},         {"UTF8Type", TypeKind::varchar},
        {"IntegerType", TypeKind::varint},    {"TimeUUIDType", TypeKind::timeuuid},
        {"InetAddressType", TypeKind::inet},  {"SimpleDateType", TypeKind::date},
        {"TimeType", TypeKind::time},         {"ShortType", TypeKind::smallint},
        {"ByteType", TypeKind::tinyint},      {"DurationType", TypeKind::duration},
    };
    if (args.empty()) {
        for (const auto& [n, k] : simple)
            if (bare == n) return DataType::simple(k);
    }
    if (bare == "VectorType" && !args.empty()) {
        auto parts = split_top_level(args);
        std::int32_t dim = 0;
        if (parts.size() == 2) {
            auto [p, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), dim);
            if (ec == std::errc{} && p == parts[1].data() + parts[1].size() && dim > 0)
                return DataType::vector_of(parse_marshal(parts[0], depth + 1), dim);
        }
        throw ProtocolError(ProtocolErrc::invalid_value, "bad VectorType: " + std::string(full));
    }
    auto t = std::make_shared<DataType>();
    t->kind = TypeKind::custom;
    t->custom_class = std::string(full);
    return t;
}
}  // namespace

DataTypePtr parse_marshal_class(std::string_view class_name) { return parse_marshal(class_name, 0); }

DataTypePtr read_type_option(ByteReader& in, int depth) {
    if (depth > kMaxTypeDepth) throw ProtocolError(ProtocolErrc::invalid_value, "type nested too deeply");
    std::uint16_t id = in.read_u16();
    if (is_simple_wire_kind(id)) return DataType::simple(static_cast<TypeKind>(id));
    switch (id) {
        case 0x0000: return parse_marshal_class(in.read_string());
        case 0x0020: return DataType::list_of(read_type_option(in, depth + 1));
        case 0x0022: return DataType::set_of(read_type_option(in, depth + 1));
        case 0x0021: {
            auto key = read_type_option(in, depth + 1);
            return DataType::map_of(std::move(key), read_type_option(in, depth + 1));
        }
        case 0x0030: {
            auto t = std::make_shared<DataType>();
            t->kind = TypeKind::udt;
            t->udt_keyspace = std::string(in.read_string());
            t->udt_name = std::string(in.read_string());
            std::uint16_t n = in.read_u16();
            for (std::uint16_t i = 0; i < n; ++i) {
                t->field_names.emplace_back(in.read_string());
                t->params.push_back(read_type_option(in, depth + 1));
            }
            return t;
        }
        case 0x0031: {
            std::uint16_t n = in.read_u16();
            std::vector<DataTypePtr> elements;
            for (std::uint16_t i = 0; i < n; ++i) elements.push_back(read_type_option(in, depth + 1));
            return DataType::tuple_of(std::move(elements));
        }
        default:
            throw ProtocolError(ProtocolErrc::invalid_value, "unknown type id " + std::to_string(id));
    }
}

namespace {
std::string marshal_class_of(const DataType& type) {
    static const std::pair<TypeKind, std::string_view> names[] = {
        {TypeKind::ascii, "AsciiType"},       {TypeKind::bigint, "LongType"},
        {TypeKind::blob, "BytesType"},        {TypeKind::boolean, "BooleanType"},
        {TypeKind::counter, "CounterColumnType"}, {TypeKind::decimal, "DecimalType"},
        {TypeKind::double_, "DoubleType"},    {TypeKind::float_, "FloatType"},
        {TypeKind::int_, "Int32Type"},        {TypeKind::timestamp, "TimestampType"},
        {TypeKind::uuid, "UUIDType"},         {TypeKind::varchar, "UTF8Type"},
        {TypeKind::varint, "IntegerType"},    {TypeKind::timeuuid, "TimeUUIDType"},
        {TypeKind::inet, "InetAddressType"},  {TypeKind::date, "SimpleDateType"},
        {TypeKind::time, "TimeType"},         {TypeKind::smallint, "ShortType"},
        {TypeKind::tinyint, "ByteType"},      {TypeKind::duration, "DurationType"},
    };
    if (type.kind == TypeKind::custom) return type.custom_class;
    if (type.kind == TypeKind::vector)
        return std::string(kMarshalPrefix) + "VectorType(" + marshal_class_of(*type.params.at(0)) + "," +
               std::to_string(type.vector_dimension) + ")";
    for (const auto& [k, n] : names)
        if (k == type.kind) return std::string(kMarshalPrefix) + std::string(n);
    throw ProtocolError(ProtocolErrc::invalid_value,
                        std::string("no marshal class for ") + to_string(type.kind) + " inside a vector");
}
}  // namespace

void write_type_option(ByteWriter& out, const DataType& type) {
    switch (type.kind) {
        case TypeKind::custom:
        case TypeKind::vector:
            out.write_u16(0x0000);
            out.write_string(marshal_class_of(type));
            return;
        case TypeKind::list:
        case TypeKind::set:
            out.write_u16(static_cast<std::uint16_t>(type.kind));
            write_type_option(out, *type.params.at(0));
            return;
        case TypeKind::map:
            out.write_u16(0x0021);
            write_type_option(out, *type.params.at(0));
            write_type_option(out, *type.params.at(1));
            return;
        case TypeKind::udt:
            out.write_u16(0x0030);
            out.write_string(type.udt_keyspace);
            out.write_string(type.udt_name);
            out.write_u16(static_cast<std::uint16_t>(type.params.size()));
            for (std::size_t i = 0; i < type.params.size(); ++i) {
                out.write_string(type.field_names.at(i));
                write_type_option(out, *type.params[i]);
            }
            return;
        case TypeKind::tuple:
            out.write_u16(0x0031);
            out.write_u16(static_cast<std::uint16_t>(type.params.size()));
            for (const auto& p : type.params) write_type_option(out, *p);
            return;
        default:
            out.write_u16(static_cast<std::uint16_t>(type.kind));
            return;
    }
}

}  // namespace async_cassandra::protocol

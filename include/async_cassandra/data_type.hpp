// CQL data types as described by result metadata ([option] in native_protocol_v4.spec 4.2.5.2).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace async_cassandra {

/// Type ids of the wire protocol. `custom` carries a Java class name (Cassandra 5's vector is a
/// custom type whose class name is `org.apache.cassandra.db.marshal.VectorType(...)`).
enum class TypeKind : std::uint16_t {
    custom = 0x0000,
    ascii = 0x0001,
    bigint = 0x0002,
    blob = 0x0003,
    boolean = 0x0004,
    counter = 0x0005,
    decimal = 0x0006,
    double_ = 0x0007,
    float_ = 0x0008,
    int_ = 0x0009,
    timestamp = 0x000B,
    uuid = 0x000C,
    varchar = 0x000D,  ///< "text" in CQL
    varint = 0x000E,
    timeuuid = 0x000F,
    inet = 0x0010,
    date = 0x0011,
    time = 0x0012,
    smallint = 0x0013,
    tinyint = 0x0014,
    duration = 0x0015,
    list = 0x0020,
    map = 0x0021,
    set = 0x0022,
    udt = 0x0030,
    tuple = 0x0031,
    /// Not a wire id: a `custom` type recognised as Cassandra 5's VectorType(element, dimension).
    vector = 0xFFFE,
};

/// A (possibly nested) CQL type. Immutable once built; shared between the columns of all pages
/// that use the same metadata.
struct DataType {
    TypeKind kind = TypeKind::blob;
    std::string custom_class;                       ///< custom: Java class name
    std::vector<std::shared_ptr<const DataType>> params;  ///< list/set: 1, map: 2, tuple: n, vector: 1
    std::string udt_keyspace;                       ///< udt
    std::string udt_name;                           ///< udt
    std::vector<std::string> field_names;           ///< udt: names, parallel to params
    std::int32_t vector_dimension = 0;              ///< vector

    static std::shared_ptr<const DataType> simple(TypeKind kind);
    static std::shared_ptr<const DataType> list_of(std::shared_ptr<const DataType> element);
    static std::shared_ptr<const DataType> set_of(std::shared_ptr<const DataType> element);
    static std::shared_ptr<const DataType> map_of(std::shared_ptr<const DataType> key,
                                                  std::shared_ptr<const DataType> value);
    static std::shared_ptr<const DataType> tuple_of(std::vector<std::shared_ptr<const DataType>> elements);
    static std::shared_ptr<const DataType> vector_of(std::shared_ptr<const DataType> element,
                                                     std::int32_t dimension);

    /// CQL spelling, e.g. "map<text, frozen<list<int>>>", "vector<float, 3>".
    std::string cql_name() const;
    bool operator==(const DataType& other) const;
};

using DataTypePtr = std::shared_ptr<const DataType>;

/// Name of a simple type kind ("int", "text", ...).
const char* to_string(TypeKind kind) noexcept;

}  // namespace async_cassandra

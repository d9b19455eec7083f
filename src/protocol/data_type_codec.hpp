// [option] encoding of CQL types (native_protocol_v4.spec 4.2.5.2).
#pragma once

#include "protocol/bytes.hpp"

#include <async_cassandra/data_type.hpp>

namespace async_cassandra::protocol {

/// Reads one [option]. Nesting deeper than 64 levels is rejected (stack safety on bad input).
DataTypePtr read_type_option(ByteReader& in, int depth = 0);
void write_type_option(ByteWriter& out, const DataType& type);

/// Parses a Java marshal class name into a type (e.g. "org.apache.cassandra.db.marshal.Int32Type"
/// or "...VectorType(org.apache.cassandra.db.marshal.FloatType,3)"); unknown classes stay custom.
DataTypePtr parse_marshal_class(std::string_view class_name);

}  // namespace async_cassandra::protocol

// The protocol layer's names for the spec notation readers and writers. They are defined in the
// public include tree (include/async_cassandra/detail/byte_io.hpp) because the value codecs of the
// public headers use them inline; dependencies point one way (src/ includes include/, never the
// reverse), so the definitions live there and this header only brings them into `protocol`.
#pragma once

#include <async_cassandra/bytes.hpp>
#include <async_cassandra/detail/byte_io.hpp>

namespace async_cassandra::protocol {

using ::async_cassandra::Bytes;
using ::async_cassandra::BytesView;
using ::async_cassandra::detail::ByteReader;
using ::async_cassandra::detail::ByteWriter;
using ::async_cassandra::detail::throw_truncated;
using ::async_cassandra::detail::ValueView;

}  // namespace async_cassandra::protocol

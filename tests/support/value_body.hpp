// A value as encode_value writes it, without its 4-byte [value] length: the bytes the codecs'
// text and literal forms are made from, for their unit tests.
#pragma once

#include <async_cassandra/codec.hpp>

#include "protocol/bytes.hpp"

namespace acass_test {

template <class V>
async_cassandra::protocol::Bytes value_body(const async_cassandra::DataType& type, const V& v) {
    async_cassandra::protocol::Bytes out;
    async_cassandra::protocol::ByteWriter w(out);
    async_cassandra::encode_value(w, type, v);
    return async_cassandra::protocol::Bytes(out.begin() + 4, out.end());
}

}  // namespace acass_test

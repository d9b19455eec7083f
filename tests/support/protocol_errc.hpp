// The ProtocolErrc that a codec call throws, for the protocol layer's unit tests.
#pragma once

#include <async_cassandra/error.hpp>

#include <gtest/gtest.h>

namespace acass_test {

/// Calls `f` and returns the code of the ProtocolError it throws; a failure of the test (and
/// invalid_value) when it throws none.
template <class F>
async_cassandra::ProtocolErrc error_of(F&& f) {
    try {
        f();
    } catch (const async_cassandra::ProtocolError& e) {
        return e.code();
    }
    ADD_FAILURE() << "no ProtocolError thrown";
    return async_cassandra::ProtocolErrc::invalid_value;
}

}  // namespace acass_test

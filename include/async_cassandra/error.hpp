// Error types of async-cassandra. Every failure the library reports is an async_cassandra::Error.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace async_cassandra {

/// Root of every exception thrown by async-cassandra.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Why a byte sequence could not be decoded (or a message could not be encoded).
enum class ProtocolErrc {
    truncated,            ///< fewer bytes than a length or a fixed-size field needs
    invalid_length,       ///< a negative or out-of-range length or count
    invalid_value,        ///< a value that the spec does not allow (bad enum, bad flag combination)
    unknown_opcode,       ///< opcode byte not defined by the protocol
    unsupported_version,  ///< protocol version we do not speak
    frame_too_large,      ///< body length above the configured limit
    bad_checksum,         ///< v5 segment CRC24/CRC32 mismatch
    compression,          ///< compressed data could not be (de)compressed
    trailing_bytes,       ///< a message body longer than its content
};

const char* to_string(ProtocolErrc code) noexcept;

/// Malformed or unexpected bytes on the wire. The connection that produced them is not
/// trustworthy anymore; the process is.
class ProtocolError : public Error {
public:
    ProtocolError(ProtocolErrc code, const std::string& what)
        : Error(std::string(to_string(code)) + ": " + what), code_(code) {}
    ProtocolErrc code() const noexcept { return code_; }

private:
    ProtocolErrc code_;
};

/// A value was requested as a C++ type that does not match its CQL type, or a C++ value
/// cannot be encoded as the CQL type of its column/bind marker.
class TypeError : public Error {
public:
    using Error::Error;
};

/// A null value was requested as a non-optional C++ type.
class NullValueError : public Error {
public:
    using Error::Error;
};

/// Error codes a server sends in an ERROR message (native_protocol_v4.spec section 9).
enum class ServerErrorCode : std::int32_t {
    server_error = 0x0000,
    protocol_error = 0x000A,
    bad_credentials = 0x0100,
    unavailable = 0x1000,
    overloaded = 0x1001,
    is_bootstrapping = 0x1002,
    truncate_error = 0x1003,
    write_timeout = 0x1100,
    read_timeout = 0x1200,
    read_failure = 0x1300,
    function_failure = 0x1400,
    write_failure = 0x1500,
    cdc_write_failure = 0x1600,  ///< v5
    cas_write_unknown = 0x1700,  ///< v5
    syntax_error = 0x2000,
    unauthorized = 0x2100,
    invalid = 0x2200,
    config_error = 0x2300,
    already_exists = 0x2400,
    unprepared = 0x2500,
};

/// Bad settings or bad use of the API (e.g. an unknown column name).
class UsageError : public Error {
public:
    using Error::Error;
};

}  // namespace async_cassandra

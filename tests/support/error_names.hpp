// The name of the typed error a request failed with, for tallies and reports: the exception's
// class ("Overloaded", "NoHostAvailable", ...), a StreamError with its cause
// ("StreamError(Overloaded)"), or "untyped:<class>" for anything that is not an
// async_cassandra::Error (which a well-behaved client never throws for a request failure).
#pragma once

#include <async_cassandra/error.hpp>
#include <async_cassandra/stream.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>

namespace acass_test {

inline std::string class_name(const std::type_info& type) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                     std::free);
    std::string name = status == 0 && demangled ? demangled.get() : type.name();
    const auto colon = name.rfind("::");
    return colon == std::string::npos ? name : name.substr(colon + 2);
}

inline std::string error_name(const std::exception_ptr& error) {
    if (!error) return "";
    try {
        std::rethrow_exception(error);
    } catch (const async_cassandra::StreamError& e) {
        return "StreamError(" + error_name(e.cause()) + ")";
    } catch (const async_cassandra::Error& e) {
        return class_name(typeid(e));
    } catch (const std::exception& e) {
        return "untyped:" + class_name(typeid(e));
    } catch (...) {
        return "untyped:unknown";
    }
}

}  // namespace acass_test

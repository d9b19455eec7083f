// exception_message (error.hpp): one place that turns a captured exception into text.
#include <async_cassandra/exception_message.hpp>

namespace async_cassandra {

std::string exception_message(const std::exception_ptr& error) {
    if (!error) return "no error";  // rethrowing a null exception_ptr is undefined behaviour
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

}  // namespace async_cassandra

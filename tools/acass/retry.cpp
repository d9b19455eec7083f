#include "retry.hpp"

#include "errors.hpp"

#include <async_cassandra/error.hpp>
#include <async_cassandra/server_errors.hpp>

#include <algorithm>
#include <random>

namespace acass_cli {

namespace ac = async_cassandra;

WriteErrorKind classify_write_error(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const ac::NoHostAvailable&) {
        return WriteErrorKind::unreachable;
    } catch (const ac::ConnectionClosed&) {
        return WriteErrorKind::connection_lost;
    } catch (const ac::Timeout&) {
        return WriteErrorKind::connection_lost;
    } catch (const ac::ProtocolError&) {
        return WriteErrorKind::connection_lost;  // bad bytes: the connection is dropped with the answer
    } catch (const ac::ServerError& e) {
        switch (e.code()) {
            case ac::ServerErrorCode::overloaded:
            case ac::ServerErrorCode::is_bootstrapping:
            case ac::ServerErrorCode::unavailable:
            case ac::ServerErrorCode::truncate_error:
                return WriteErrorKind::transient;
            case ac::ServerErrorCode::write_timeout:
            case ac::ServerErrorCode::read_timeout:
            case ac::ServerErrorCode::server_error:
                return WriteErrorKind::unknown_outcome;  // the write may have been applied
            default:
                return WriteErrorKind::rejected;
        }
    } catch (const ac::TypeError&) {
        return WriteErrorKind::rejected;
    } catch (const ac::NullValueError&) {
        return WriteErrorKind::rejected;
    } catch (...) {
        return WriteErrorKind::fatal;
    }
}

std::chrono::milliseconds retry_delay(int attempt) {
    static thread_local std::minstd_rand random{std::random_device{}()};
    const int exponent = std::clamp(attempt - 1, 0, 8);
    const int ceiling = std::min(1000, 5 << exponent);
    std::uniform_int_distribution<int> pick(ceiling / 2, ceiling);
    return std::chrono::milliseconds(pick(random));
}

}  // namespace acass_cli

// Host: one node of the cluster as the driver routes to it — where it is (address, port, data
// center, rack) and whether the driver currently considers it up.
//
// A Host is an immutable description plus a shared, live state: copies (and the new Host made
// when the driver learns more about a node, e.g. its data center) see the same up/down state.
// Load-balancing policies read hosts from any thread; nothing here blocks.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace async_cassandra {

/// The live part of a Host shared by every Host object of the same node.
struct HostStatus {
    std::atomic<bool> up{true};
};

/// One node of the cluster (see the file comment).
class Host {
public:
    Host(std::string address, std::uint16_t port, std::string datacenter = {}, std::string rack = {},
         std::shared_ptr<HostStatus> status = nullptr)
        : address_(std::move(address)),
          port_(port),
          datacenter_(std::move(datacenter)),
          rack_(std::move(rack)),
          endpoint_(address_.find(':') != std::string::npos ? "[" + address_ + "]:" + std::to_string(port_)
                                                            : address_ + ":" + std::to_string(port_)),
          status_(status ? std::move(status) : std::make_shared<HostStatus>()) {}

    const std::string& address() const noexcept { return address_; }
    std::uint16_t port() const noexcept { return port_; }
    /// "address:port" (IPv6 in brackets): how the host is named in errors, metrics and maps.
    const std::string& endpoint() const noexcept { return endpoint_; }
    /// Data center and rack as the node reports them; empty while unknown.
    const std::string& datacenter() const noexcept { return datacenter_; }
    const std::string& rack() const noexcept { return rack_; }
    /// False from a connection failure or a DOWN event until a probe succeeds or an UP event.
    bool is_up() const noexcept { return status_->up.load(std::memory_order_relaxed); }
    /// The shared live state (for the driver; policies only read is_up()).
    const std::shared_ptr<HostStatus>& status() const noexcept { return status_; }

private:
    std::string address_;
    std::uint16_t port_;
    std::string datacenter_;
    std::string rack_;
    std::string endpoint_;
    std::shared_ptr<HostStatus> status_;
};

using HostPtr = std::shared_ptr<const Host>;
using HostList = std::vector<HostPtr>;

}  // namespace async_cassandra

// The load-balancing and retry policies on their own (no network): DC-aware round robin, token
// awareness over it, plans without down hosts, and every row of DefaultRetryPolicy's table.
#include <async_cassandra/load_balancing.hpp>
#include <async_cassandra/retry_policy.hpp>
#include <async_cassandra/server_errors.hpp>

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace async_cassandra;

namespace {

class FakeCluster : public ClusterView {
public:
    HostList hosts_;
    std::map<std::int64_t, HostList> replicas_;
    std::string default_dc_ = "dc1";
    const HostList& hosts() const noexcept override { return hosts_; }
    HostList replicas(std::string_view keyspace, std::int64_t token) const override {
        if (keyspace != "ks") return {};
        auto it = replicas_.find(token);
        return it == replicas_.end() ? HostList{} : it->second;
    }
    std::string default_datacenter() const override { return default_dc_; }
};

FakeCluster two_dcs() {
    FakeCluster c;
    for (int i = 1; i <= 3; ++i) c.hosts_.push_back(std::make_shared<Host>("10.0.1." + std::to_string(i), 9042, "dc1", "r1"));
    for (int i = 1; i <= 3; ++i) c.hosts_.push_back(std::make_shared<Host>("10.0.2." + std::to_string(i), 9042, "dc2", "r1"));
    return c;
}

std::vector<std::string> endpoints(const HostList& plan) {
    std::vector<std::string> out;
    for (const auto& h : plan) out.push_back(h->endpoint());
    return out;
}

RetryAction decide(const std::exception_ptr& error, RequestErrorKind kind, bool idempotent, int retries = 0) {
    RetryContext c;
    c.error = error;
    c.kind = kind;
    c.idempotent = idempotent;
    c.retries = retries;
    return DefaultRetryPolicy().decide(c);
}

}  // namespace

TEST(DcAwareRoundRobin, LocalHostsOnlyRotating) {
    FakeCluster c = two_dcs();
    DcAwareRoundRobinPolicy policy;
    std::map<std::string, int> firsts;
    for (int i = 0; i < 30; ++i) {
        HostList plan = policy.plan(c, {});
        ASSERT_EQ(plan.size(), 3u);
        for (const auto& h : plan) EXPECT_EQ(h->datacenter(), "dc1");
        ++firsts[plan.front()->endpoint()];
    }
    EXPECT_EQ(firsts.size(), 3u);
    for (auto& [host, n] : firsts) EXPECT_EQ(n, 10) << host;
    EXPECT_FALSE(policy.is_usable(c, *c.hosts_[4]));
    EXPECT_TRUE(policy.is_usable(c, *c.hosts_[0]));
}

TEST(DcAwareRoundRobin, ExplicitLocalDcAndRemoteHostsPerDc) {
    FakeCluster c = two_dcs();
    DcAwareOptions options;
    options.local_dc = "dc2";
    options.allow_remote_dcs = true;
    options.remote_hosts_per_dc = 2;
    DcAwareRoundRobinPolicy policy(options);
    HostList plan = policy.plan(c, {});
    ASSERT_EQ(plan.size(), 5u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(plan[i]->datacenter(), "dc2");
    for (int i = 3; i < 5; ++i) EXPECT_EQ(plan[i]->datacenter(), "dc1");
    EXPECT_TRUE(policy.is_usable(c, *c.hosts_[1]));
    EXPECT_FALSE(policy.is_usable(c, *c.hosts_[2]));  // third host of a remote DC
}

TEST(DcAwareRoundRobin, DownHostsAreSkipped) {
    FakeCluster c = two_dcs();
    c.hosts_[1]->status()->up = false;
    DcAwareRoundRobinPolicy policy;
    for (int i = 0; i < 6; ++i) {
        auto plan = endpoints(policy.plan(c, {}));
        EXPECT_EQ(plan.size(), 2u);
        EXPECT_EQ(std::count(plan.begin(), plan.end(), "10.0.1.2:9042"), 0);
    }
}

TEST(TokenAware, ReplicasFirstShuffledThenTheChildPlan) {
    FakeCluster c = two_dcs();
    c.replicas_[42] = {c.hosts_[2], c.hosts_[1], c.hosts_[4]};  // dc1 .3, dc1 .2, dc2 .2
    TokenAwarePolicy policy(std::make_shared<DcAwareRoundRobinPolicy>());
    RoutingInfo routing;
    routing.keyspace = "ks";
    routing.token = 42;
    std::set<std::string> firsts;
    for (int i = 0; i < 50; ++i) {
        auto plan = endpoints(policy.plan(c, routing));
        ASSERT_EQ(plan.size(), 3u);  // the DC-aware child keeps the remote replica out
        EXPECT_EQ((std::set<std::string>{plan[0], plan[1]}), (std::set<std::string>{"10.0.1.3:9042", "10.0.1.2:9042"}));
        EXPECT_EQ(plan[2], "10.0.1.1:9042");
        firsts.insert(plan[0]);
    }
    EXPECT_EQ(firsts.size(), 2u);  // shuffled among replicas
    // A down replica is not in the plan; an unknown keyspace or no token: the child's plan.
    c.hosts_[2]->status()->up = false;
    EXPECT_EQ(policy.plan(c, routing).front()->endpoint(), "10.0.1.2:9042");
    routing.keyspace = "other";
    EXPECT_EQ(policy.plan(c, routing).size(), 2u);
}

// The plan is reordered in place: the replicas first, every other host in the order of the
// child's (rotating) plan.
TEST(TokenAware, TheOtherHostsKeepTheChildsOrder) {
    FakeCluster c;
    for (int i = 1; i <= 6; ++i) c.hosts_.push_back(std::make_shared<Host>("10.0.1." + std::to_string(i), 9042, "dc1", "r1"));
    c.replicas_[7] = {c.hosts_[4], c.hosts_[1]};
    TokenAwarePolicy policy(std::make_shared<DcAwareRoundRobinPolicy>());
    DcAwareRoundRobinPolicy child;  // rotates in step with the policy's own child
    RoutingInfo routing;
    routing.keyspace = "ks";
    routing.token = 7;
    for (int i = 0; i < 12; ++i) {
        const auto plan = endpoints(policy.plan(c, routing));
        std::vector<std::string> others;
        for (const auto& e : endpoints(child.plan(c, {})))
            if (e != "10.0.1.5:9042" && e != "10.0.1.2:9042") others.push_back(e);
        ASSERT_EQ(plan.size(), 6u);
        EXPECT_EQ((std::set<std::string>{plan[0], plan[1]}), (std::set<std::string>{"10.0.1.5:9042", "10.0.1.2:9042"}));
        EXPECT_EQ(std::vector<std::string>(plan.begin() + 2, plan.end()), others);
    }
}

TEST(DefaultRetryPolicy, TheClassicTable) {
    auto read_timeout = [](int received, int block_for, bool data) {
        return std::make_exception_ptr(ReadTimeout("rt", Consistency::quorum, received, block_for, data));
    };
    auto write_timeout = [](std::string type) {
        return std::make_exception_ptr(WriteTimeout("wt", Consistency::quorum, 0, 1, std::move(type), 0));
    };
    // Read timeout: same host once when enough replicas answered but not the data.
    EXPECT_EQ(decide(read_timeout(2, 2, false), RequestErrorKind::read_timeout, false), RetryAction::retry_same_host);
    EXPECT_EQ(decide(read_timeout(2, 2, false), RequestErrorKind::read_timeout, false, 1), RetryAction::rethrow);
    EXPECT_EQ(decide(read_timeout(1, 2, false), RequestErrorKind::read_timeout, true), RetryAction::rethrow);
    EXPECT_EQ(decide(read_timeout(2, 2, true), RequestErrorKind::read_timeout, true), RetryAction::rethrow);
    // Write timeout: idempotent or batch log only, once.
    EXPECT_EQ(decide(write_timeout("SIMPLE"), RequestErrorKind::write_timeout, false), RetryAction::rethrow);
    EXPECT_EQ(decide(write_timeout("SIMPLE"), RequestErrorKind::write_timeout, true), RetryAction::retry_same_host);
    EXPECT_EQ(decide(write_timeout("SIMPLE"), RequestErrorKind::write_timeout, true, 1), RetryAction::rethrow);
    EXPECT_EQ(decide(write_timeout("BATCH_LOG"), RequestErrorKind::write_timeout, false), RetryAction::retry_same_host);
    // Unavailable: next host once.
    const auto unavailable = std::make_exception_ptr(Unavailable("u", Consistency::quorum, 2, 1));
    EXPECT_EQ(decide(unavailable, RequestErrorKind::unavailable, false), RetryAction::retry_next_host);
    EXPECT_EQ(decide(unavailable, RequestErrorKind::unavailable, false, 1), RetryAction::rethrow);
    // Overloaded, bootstrapping, connection loss, client timeout: next host when idempotent.
    for (auto kind : {RequestErrorKind::overloaded, RequestErrorKind::is_bootstrapping,
                      RequestErrorKind::connection_lost, RequestErrorKind::client_timeout}) {
        const auto error = std::make_exception_ptr(Timeout("t"));
        EXPECT_EQ(decide(error, kind, true), RetryAction::retry_next_host) << to_string(kind);
        EXPECT_EQ(decide(error, kind, true, 5), RetryAction::retry_next_host) << to_string(kind);
        EXPECT_EQ(decide(error, kind, false), RetryAction::rethrow) << to_string(kind);
    }
    // Everything else: rethrow.
    for (auto kind : {RequestErrorKind::server_error, RequestErrorKind::read_failure, RequestErrorKind::request_error,
                      RequestErrorKind::other}) {
        EXPECT_EQ(decide(std::make_exception_ptr(InvalidRequest("x")), kind, true), RetryAction::rethrow)
            << to_string(kind);
    }
}

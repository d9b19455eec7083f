// The fault matrix (issue 17): every fault the embedded node can inject, crossed with every kind
// of operation a user runs, against one 3-node in-process acass-server. Each cell installs one
// fault aimed at the operation's requests, runs the operation with a short request timeout and
// checks what a demanding user is owed:
//   - success with every row exactly once (reads check each value; writes are read back), or a
//     typed error (an async_cassandra::Error subclass; for the CLI an exit status with a message);
//   - within a bound (no hang): in-process operations 15 s, CLI runs 20 s;
//   - no stream id left in flight once the session is idle, except the orphan of a request the
//     node never answers (stall, wrong stream id), which is held until that connection closes;
//   - a non-idempotent insert reaches the nodes at most once (counted on the nodes);
//   - no crash (the CLI must exit, not die of a signal).
// Outcomes are written as JSON (one cell per line) to $ACASS_RELIABILITY_JSON or
// <build>/reliability/matrix.json and compared with docs/reliability-matrix.json, from which
// scripts/reliability_table.py generates the table of docs/reliability.md. After a deliberate
// change of behaviour, run with ACASS_RELIABILITY_UPDATE=1 to rewrite the committed JSON, then
// `scripts/reliability_table.py` to regenerate the table.

#include "support/cluster_helpers.hpp"
#include "support/embedded_server.hpp"
#include "support/error_names.hpp"
#include "support/run_coroutine.hpp"

#include <async_cassandra/async_cassandra.hpp>

#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <gtest/gtest.h>

#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

using namespace async_cassandra;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;
namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------- the axes

enum class Fault {
    drop_mid_frame,
    drop_between_pages,
    stall,
    overloaded,
    read_timeout,
    write_timeout,
    unavailable,
    is_bootstrapping,
    corrupt_frame,
    wrong_stream,
    node_stopped,
    all_nodes_restarted,
};

enum class Op { point_read, insert_idempotent, insert_non_idempotent, batch, stream, scan, cli_export, cli_load };

constexpr Fault kFaults[] = {Fault::drop_mid_frame, Fault::drop_between_pages, Fault::stall,
                             Fault::overloaded,     Fault::read_timeout,       Fault::write_timeout,
                             Fault::unavailable,    Fault::is_bootstrapping,   Fault::corrupt_frame,
                             Fault::wrong_stream,   Fault::node_stopped,       Fault::all_nodes_restarted};
constexpr Op kOps[] = {Op::point_read, Op::insert_idempotent, Op::insert_non_idempotent, Op::batch,
                       Op::stream,     Op::scan,              Op::cli_export,            Op::cli_load};

std::string name_of(Fault f) {
    switch (f) {
        case Fault::drop_mid_frame: return "connection dropped mid-frame";
        case Fault::drop_between_pages: return "connection dropped between pages";
        case Fault::stall: return "stalled response";
        case Fault::overloaded: return "Overloaded";
        case Fault::read_timeout: return "ReadTimeout";
        case Fault::write_timeout: return "WriteTimeout";
        case Fault::unavailable: return "Unavailable";
        case Fault::is_bootstrapping: return "IsBootstrapping";
        case Fault::corrupt_frame: return "corrupted frame";
        case Fault::wrong_stream: return "answer on a wrong stream id";
        case Fault::node_stopped: return "node stopped";
        case Fault::all_nodes_restarted: return "all nodes stopped, then restarted";
    }
    return "?";
}

std::string name_of(Op op) {
    switch (op) {
        case Op::point_read: return "point read";
        case Op::insert_idempotent: return "prepared insert, idempotent";
        case Op::insert_non_idempotent: return "prepared insert, not idempotent";
        case Op::batch: return "batch";
        case Op::stream: return "stream";
        case Op::scan: return "parallel scan";
        case Op::cli_export: return "acass export";
        case Op::cli_load: return "acass load";
    }
    return "?";
}

/// Identifier-safe names for gtest.
std::string id_of(Fault f) {
    std::string s = name_of(f);
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return s;
}
std::string id_of(Op op) {
    std::string s = name_of(op);
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return s;
}

bool paged(Op op) { return op == Op::stream || op == Op::scan || op == Op::cli_export; }

/// The query text every request of the operation contains (fault rules match on it).
std::string pattern_of(Op op) {
    switch (op) {
        case Op::point_read: return "FROM rel.kv WHERE";
        case Op::insert_idempotent: return "INSERT INTO rel.kv";
        case Op::insert_non_idempotent: return "INSERT INTO rel.once";
        case Op::batch: return "INSERT INTO rel.batched";
        case Op::stream:
        case Op::scan:
        case Op::cli_export: return "FROM synthetic.rows";
        case Op::cli_load: return "INSERT INTO rel.loaded";
    }
    return "";
}

/// Cells known to fail because of a client bug not fixed yet: (fault, op) -> why. A listed cell
/// that fails is reported (expected_failure in the JSON) but does not fail the test; a listed
/// cell that passes does (remove it from here).
const std::map<std::pair<Fault, Op>, std::string>& known_failures() {
    static const std::map<std::pair<Fault, Op>, std::string> known = {};
    return known;
}

// ---------------------------------------------------------------- sizes and limits

constexpr std::int64_t kSyntheticRows = 2000;  // synthetic.rows; pages of kFetchSize
constexpr std::int32_t kFetchSize = 250;
constexpr int kWrites = 5;                      // statements per insert cell, rows per batch
constexpr int kLoadRows = 40;                   // rows of the acass load cells
constexpr auto kRequestTimeout = 500ms;         // the client's request timeout in every cell
constexpr auto kOpBound = 15s;                  // in-process operation: no hang
constexpr auto kCliBound = 20s;                 // acass run: no hang
constexpr auto kStopDelay = 100ms;              // node faults: the triggering request is held this long
constexpr auto kAllDownFor = 500ms;             // all nodes stopped for this long

// ---------------------------------------------------------------- the outcome of a cell

struct Outcome {
    std::string outcome = "ok";  // ok | error | n/a
    std::string error;           // typed error name (in-process) or "exit N" (CLI)
    std::vector<std::string> violations;
    std::string note;
    long long ms = 0;
    std::string expected_failure;
};

std::string json_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\', out += c;
        else if (static_cast<unsigned char>(c) < 0x20) out += ' ';
        else out += c;
    }
    return out;
}

/// A message without what changes from run to run (the node's address and port, which node),
/// so that the committed JSON only changes with the behaviour. NoHostAvailable lists every
/// node's error in the order they were tried: its class says enough.
std::string stable_note(const Outcome& o) {
    if (o.error == "NoHostAvailable") return "";
    static const std::regex node(R"(127\.0\.0\.[0-9]+:[0-9]+)");
    return std::regex_replace(o.note, node, "<node>");
}

/// One JSON object per line, so that the test and scripts/reliability_table.py read it simply.
std::string json_line(Fault f, Op op, const Outcome& o) {
    std::ostringstream s;
    s << R"({"fault": ")" << json_escape(name_of(f)) << R"(", "operation": ")" << json_escape(name_of(op))
      << R"(", "outcome": ")" << o.outcome << R"(", "error": ")" << json_escape(o.error) << R"(", "violation": ")";
    for (std::size_t i = 0; i < o.violations.size(); ++i) s << (i ? "; " : "") << json_escape(o.violations[i]);
    s << R"(", "expected_failure": ")" << json_escape(o.expected_failure) << R"(", "note": ")"
      << json_escape(stable_note(o))
      << R"("})";
    return s.str();
}

/// The value of "key" in one line of json_line's form.
std::string json_field(const std::string& line, const std::string& key) {
    const std::string open = "\"" + key + "\": \"";
    auto at = line.find(open);
    if (at == std::string::npos) return "";
    at += open.size();
    std::string value;
    for (; at < line.size() && line[at] != '"'; ++at) {
        if (line[at] == '\\' && at + 1 < line.size()) ++at;
        value += line[at];
    }
    return value;
}

// ---------------------------------------------------------------- the shared node

struct Matrix {
    std::unique_ptr<srv::Cluster> server;
    std::mutex mutex;
    std::map<std::pair<Fault, Op>, Outcome> outcomes;
    int next_base = 1000;  // distinct keys for every write cell
};

Matrix& matrix() {
    static Matrix m;
    return m;
}

ClusterConfig client_config(const srv::Cluster& server) {
    ClusterConfig c = acass_test::config_for_all_nodes(server);
    c.request_timeout = kRequestTimeout;
    c.connection.connect_timeout = 1s;
    return c;
}

/// Brings every node back and waits until each accepts connections again.
void restore_nodes(srv::Cluster& server) {
    server.faults().clear();
    for (int node = 1; node <= server.node_count(); ++node) server.restart_node(node);
}

/// Node faults act from a thread of their own (an acass run blocks the test thread): when the
/// first of the per-node `delay` rules fires, its node is stopped while it holds the request
/// (node_stopped), or every node is stopped and restarted kAllDownFor later.
class NodeFaultWatcher {
public:
    NodeFaultWatcher(srv::Cluster& server, Fault fault, std::vector<std::size_t> trigger_rules)
        : server_(server), fault_(fault), rules_(std::move(trigger_rules)) {
        if (rules_.empty()) return;
        thread_ = std::thread([this] { watch(); });
    }
    ~NodeFaultWatcher() { finish(); }
    /// Waits for the action (a restart included) to complete, or gives up if it never triggered.
    void finish() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    int stopped_node() const { return stopped_.load(); }

private:
    void watch() {
        while (!stop_) {
            for (std::size_t i = 0; i < rules_.size(); ++i) {
                if (server_.faults().hits(rules_[i]) == 0) continue;
                const int node = static_cast<int>(i) + 1;
                if (fault_ == Fault::node_stopped) {
                    server_.stop_node(node);
                    stopped_ = node;
                } else {
                    for (int n = 1; n <= server_.node_count(); ++n) server_.stop_node(n);
                    stopped_ = node;
                    std::this_thread::sleep_for(kAllDownFor);
                    for (int n = 1; n <= server_.node_count(); ++n) server_.restart_node(n);
                }
                return;
            }
            std::this_thread::sleep_for(1ms);
        }
    }

    srv::Cluster& server_;
    Fault fault_;
    std::vector<std::size_t> rules_;
    std::atomic<bool> stop_{false};
    std::atomic<int> stopped_{0};
    std::thread thread_;
};

/// The rules of one cell: installed just before the operation runs.
struct InstalledFault {
    std::vector<std::size_t> node_triggers;  // node faults: one delay rule per node
    std::optional<std::size_t> unanswered;   // stall / wrong_stream: requests never answered on their id
    std::optional<std::size_t> refused;      // error faults: requests answered with an error, not executed
};

InstalledFault install(srv::Cluster& server, Fault fault, Op op) {
    InstalledFault installed;
    srv::FaultRule rule;
    rule.pattern = pattern_of(op);
    rule.max_hits = 1;
    switch (fault) {
        case Fault::drop_mid_frame: rule.kind = srv::FaultKind::drop_mid_frame; break;
        case Fault::drop_between_pages:
            rule.kind = srv::FaultKind::drop_after_pages;
            rule.pages = 2;  // the third page's connection breaks
            break;
        case Fault::stall: rule.kind = srv::FaultKind::stall; break;
        case Fault::overloaded: rule = acass_test::error_rule(ServerErrorCode::overloaded, rule.pattern); break;
        case Fault::read_timeout: rule = acass_test::error_rule(ServerErrorCode::read_timeout, rule.pattern); break;
        case Fault::write_timeout: rule = acass_test::error_rule(ServerErrorCode::write_timeout, rule.pattern); break;
        case Fault::unavailable: rule = acass_test::error_rule(ServerErrorCode::unavailable, rule.pattern); break;
        case Fault::is_bootstrapping:
            rule = acass_test::error_rule(ServerErrorCode::is_bootstrapping, rule.pattern);
            break;
        case Fault::corrupt_frame: rule.kind = srv::FaultKind::corrupt_frame; break;
        case Fault::wrong_stream: rule.kind = srv::FaultKind::wrong_stream; break;
        case Fault::node_stopped:
        case Fault::all_nodes_restarted:
            // Paged operations lose the node mid-way (its third page request), the others at
            // their first request; the request is held kStopDelay so that it is in flight.
            for (int node = 1; node <= server.node_count(); ++node) {
                srv::FaultRule trigger;
                trigger.kind = srv::FaultKind::delay;
                trigger.delay = std::chrono::duration_cast<std::chrono::milliseconds>(kStopDelay);
                trigger.pattern = pattern_of(op);
                trigger.node = node;
                trigger.nth = paged(op) ? 3 : 1;
                trigger.match_prepare = false;
                installed.node_triggers.push_back(server.faults().add(trigger));
            }
            return installed;
    }
    rule.max_hits = 1;  // one fault per cell: what follows shows how the client recovers
    rule.match_prepare = false;  // the operation's executions, not the statement's preparation
    const std::size_t index = server.faults().add(rule);
    if (fault == Fault::stall || fault == Fault::wrong_stream) installed.unanswered = index;
    if (rule.kind == srv::FaultKind::error) installed.refused = index;
    return installed;
}

// ---------------------------------------------------------------- checks shared by the cells

/// Rows of synthetic.rows seen so far: each must come exactly once, with its values.
struct RowTally : acass_test::SyntheticTally {
    RowTally() : SyntheticTally(kSyntheticRows) {}
    /// Violations: wrong values and duplicates always; missing rows when the operation succeeded.
    void check(bool complete, Outcome& o) const {
        if (auto problems = SyntheticTally::problems(complete); !problems.empty()) o.violations.push_back(problems);
    }
};

std::string value_of(int k) { return "v" + std::to_string(k); }

/// Records a failed operation: a typed error, or a violation when the exception is not one.
void record_error(const std::exception_ptr& error, Outcome& o) {
    o.outcome = "error";
    o.error = acass_test::error_name(error);
    if (o.error.rfind("untyped:", 0) == 0) o.violations.push_back("failed with an untyped exception " + o.error);
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        o.note = std::string(e.what()).substr(0, 160);
    } catch (...) {
    }
}

/// Reads `keys` back (after the faults are gone): each must hold its value. A read that fails
/// is a violation too: the session must have recovered by then.
asio::awaitable<void> check_written(Session session, const std::string& table, const std::vector<int>& keys,
                                    Outcome& o) {
    for (int k : keys) {
        Statement st("SELECT v FROM " + table + " WHERE k = " + std::to_string(k));
        st.set_idempotent();
        auto [error, result] = co_await session.try_execute(st);
        if (error) {
            o.violations.push_back("the session did not recover: reading back failed with " +
                                   acass_test::error_name(error));
            co_return;
        }
        auto row = result.one();
        if (!row) o.violations.push_back("row k=" + std::to_string(k) + " written but lost");
        else if (row->get<std::string>(0) != value_of(k)) o.violations.push_back("row k=" + std::to_string(k) + " wrong");
    }
}

/// Waits (5 s) until the client sees every node up again after a node fault.
asio::awaitable<void> wait_all_up(const Cluster& cluster, const srv::Cluster& server) {
    for (int node = 1; node <= server.node_count(); ++node)
        co_await acass_test::wait_for_host(cluster, server.address(node) + ":" + std::to_string(server.port()), true);
}

// ---------------------------------------------------------------- in-process operations

struct Statements {
    PreparedStatement read, insert, once, batched;
};

/// Runs `op` once; its failure lands in `error`. Write cells put the keys whose statement
/// succeeded in `written`; the non-idempotent cell checks after every statement that the nodes
/// executed it at most once: the `probe` rule counts its arrivals, less those the fault refused.
asio::awaitable<void> run_op(Session session, Op op, const Statements& ps, int base, std::size_t probe,
                             std::optional<std::size_t> refused, RowTally& rows, std::vector<int>& written,
                             std::exception_ptr& error, Outcome& o) {
    auto& server = *matrix().server;
    try {
        switch (op) {
            case Op::point_read:
                for (int k = 1; k <= kWrites; ++k) {
                    BoundStatement bound = ps.read.bind(k);
                    bound.set_idempotent();
                    ResultSet rs = co_await session.execute(bound);
                    auto row = rs.one();
                    if (!row || row->get<std::string>(0) != value_of(k))
                        o.violations.push_back("point read of k=" + std::to_string(k) + " returned a wrong row");
                }
                break;
            case Op::insert_idempotent:
            case Op::insert_non_idempotent: {
                const bool idempotent = op == Op::insert_idempotent;
                for (int k = base; k < base + kWrites; ++k) {
                    BoundStatement bound = (idempotent ? ps.insert : ps.once).bind(k, value_of(k));
                    bound.set_idempotent(idempotent);
                    const auto executions = [&] {
                        return server.faults().hits(probe) - (refused ? server.faults().hits(*refused) : 0);
                    };
                    const std::int64_t before = executions();
                    std::exception_ptr failed;
                    try {
                        co_await session.execute(bound);
                    } catch (...) {
                        failed = std::current_exception();
                    }
                    const std::int64_t applied = executions() - before;
                    if (!idempotent && applied > 1)
                        o.violations.push_back("non-idempotent insert k=" + std::to_string(k) + " executed " +
                                               std::to_string(applied) + " times");
                    if (failed) std::rethrow_exception(failed);
                    written.push_back(k);
                }
                break;
            }
            case Op::batch: {
                Batch batch = Batch::logged();
                for (int k = base; k < base + kWrites; ++k) batch.add(ps.batched.bind(k, value_of(k)));
                batch.options().idempotent = true;
                co_await session.execute_batch(std::move(batch));
                for (int k = base; k < base + kWrites; ++k) written.push_back(k);
                break;
            }
            case Op::stream: {
                Statement st("SELECT * FROM synthetic.rows");
                st.set_idempotent();
                StreamConfig config;
                config.fetch_size = kFetchSize;
                config.page_timeout = 10s;
                ResultStream stream = co_await execute_stream(session, st, config);
                while (auto row = co_await stream.next()) rows.add(*row);
                break;
            }
            case Op::scan: {
                ScanConfig config;
                config.table = "synthetic.rows";
                config.splits = 4;
                config.concurrency = 2;
                config.stream.fetch_size = kFetchSize;
                config.stream.page_timeout = 10s;
                co_await scan_table(session, config, [&](std::size_t, const Page& page) {
                    for (Row row : page) rows.add(row);
                });
                break;
            }
            case Op::cli_export:
            case Op::cli_load: break;  // run_cli_cell
        }
    } catch (...) {
        error = std::current_exception();
    }
}

void run_client_cell(Fault fault, Op op, Outcome& o) {
    auto& server = *matrix().server;
    const int base = matrix().next_base;
    matrix().next_base += 100;
    acass_test::run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, client_config(server));
        Session session = co_await cluster.connect();
        Statements ps;
        ps.read = co_await session.prepare("SELECT v FROM rel.kv WHERE k = ?");
        ps.insert = co_await session.prepare("INSERT INTO rel.kv (k, v) VALUES (?, ?)");
        ps.once = co_await session.prepare("INSERT INTO rel.once (k, v) VALUES (?, ?)");
        ps.batched = co_await session.prepare("INSERT INTO rel.batched (k, v) VALUES (?, ?)");

        srv::FaultRule probe;  // counts every arrival of the non-idempotent insert; changes nothing else
        probe.kind = srv::FaultKind::warn;
        probe.warning = "matrix probe";
        probe.pattern = pattern_of(Op::insert_non_idempotent);
        probe.match_prepare = false;
        const std::size_t probe_rule = server.faults().add(probe);
        const InstalledFault installed = install(server, fault, op);
        NodeFaultWatcher watcher(server, fault, installed.node_triggers);

        RowTally rows;
        std::vector<int> written;
        std::exception_ptr error;
        const auto start = std::chrono::steady_clock::now();
        bool hung = false;
        {
            using namespace asio::experimental::awaitable_operators;
            asio::steady_timer deadline(ex, kOpBound);
            auto both = run_op(session, op, ps, base, probe_rule, installed.refused, rows, written, error, o) ||
                        deadline.async_wait(asio::use_awaitable);
            auto first = co_await std::move(both);
            hung = first.index() == 1;
        }
        o.ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
        watcher.finish();
        const std::int64_t unanswered = installed.unanswered ? server.faults().hits(*installed.unanswered) : 0;
        restore_nodes(server);

        if (hung) o.violations.push_back("no answer within " + std::to_string(kOpBound.count()) + " s (hang)");
        else if (error) record_error(error, o);
        if (op == Op::stream || op == Op::scan) rows.check(!hung && !error, o);

        co_await wait_all_up(cluster, server);
        const std::size_t in_flight = co_await acass_test::wait_until_idle(session, 2s);
        if (in_flight > static_cast<std::size_t>(unanswered))
            o.violations.push_back(std::to_string(in_flight) + " stream ids still in flight once idle (" +
                                   std::to_string(unanswered) + " never answered by the node)");
        if (op == Op::insert_idempotent || op == Op::insert_non_idempotent || op == Op::batch)
            co_await check_written(session,
                                   op == Op::insert_idempotent ? "rel.kv" : op == Op::batch ? "rel.batched" : "rel.once",
                                   written, o);
        else {
            // The session works again (a fault must not leave it broken).
            Statement st("SELECT v FROM rel.kv WHERE k = 1");
            st.set_idempotent();
            auto [after, result] = co_await session.try_execute(st);
            if (after) o.violations.push_back("the session did not recover: " + acass_test::error_name(after));
        }
        co_await cluster.shutdown();
    });
}

// ---------------------------------------------------------------- acass runs

struct Exit {
    bool hung = false;
    int signal = 0;
    int code = -1;
};

/// Runs `args` (argv[0] a path) with stdout/stderr into files; kills it after `bound`.
Exit run_process(const std::vector<std::string>& args, const fs::path& out, const fs::path& err,
                 std::chrono::milliseconds bound) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // Not the in-process node's sockets (Asio opens them without CLOEXEC): a child holding a
    // listener keeps a stopped node listening, and its restart fails to bind.
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    Exit exit;
    if (spawned != 0) {
        exit.code = 127;
        return exit;
    }
    const auto deadline = std::chrono::steady_clock::now() + bound;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            exit.hung = true;
            return exit;
        }
        std::this_thread::sleep_for(5ms);
    }
    if (WIFSIGNALED(status)) exit.signal = WTERMSIG(status);
    else exit.code = WEXITSTATUS(status);
    return exit;
}

std::string first_line(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    return line.substr(0, 160);
}

/// Checks an exported CSV of synthetic.rows: every row once, with the name its key implies.
void check_export(const fs::path& csv, RowTally& rows) {
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);
    std::vector<std::string> header;
    {
        std::istringstream h(line);
        for (std::string cell; std::getline(h, cell, ',');) header.push_back(cell);
    }
    const auto column = [&](const std::string& name) {
        return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
    };
    const std::size_t pk = column("pk"), ck = column("ck"), name = column("name");
    while (std::getline(in, line)) {
        std::vector<std::string> cells;
        std::istringstream l(line);
        for (std::string cell; std::getline(l, cell, ',');) cells.push_back(cell);
        if (pk >= cells.size() || ck >= cells.size() || name >= cells.size()) {
            rows.add(std::nullopt);
            continue;
        }
        const long long p = std::atoll(cells[pk].c_str()), c = std::atoll(cells[ck].c_str());
        if (cells[name] != "name-" + cells[pk] + "-" + cells[ck] || c < 0 || c >= 100) rows.add(std::nullopt);
        else rows.add(static_cast<std::size_t>(p * 100 + c));
    }
}

void run_cli_cell(Fault fault, Op op, Outcome& o) {
    auto& server = *matrix().server;
    const int base = matrix().next_base;
    matrix().next_base += 100;
    const fs::path dir = fs::path(ACASS_BINARY_DIR) / "reliability" / "cells";
    fs::create_directories(dir);
    const fs::path data = dir / (op == Op::cli_export ? "export.csv" : "load.csv");
    const fs::path err = dir / "stderr.txt", rejects = dir / "rejects.txt";
    fs::remove(rejects);
    std::vector<std::string> args = {std::string(ACASS_BINARY_DIR) + "/bin/acass"};
    if (op == Op::cli_export) {
        args.insert(args.end(), {"export", "--table", "synthetic.rows", "-o", data.string(), "--fetch-size",
                                 std::to_string(kFetchSize)});
    } else {
        std::ofstream csv(data);
        csv << "k,v\n";
        for (int k = base; k < base + kLoadRows; ++k) csv << k << ',' << value_of(k) << '\n';
        csv.close();
        args.insert(args.end(), {"load", "--table", "rel.loaded", "-i", data.string(), "--reject-file",
                                 rejects.string(), "--concurrency", "4"});
    }
    for (int node = 1; node <= server.node_count(); ++node) args.insert(args.end(), {"--host", server.address(node)});
    args.insert(args.end(), {"--port", std::to_string(server.port()), "--timeout", "0.5", "-q"});

    const InstalledFault installed = install(server, fault, op);
    NodeFaultWatcher watcher(server, fault, installed.node_triggers);
    const auto start = std::chrono::steady_clock::now();
    const Exit exit = run_process(args, dir / "stdout.txt", err, kCliBound);
    o.ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    watcher.finish();
    restore_nodes(server);

    if (exit.hung) {
        o.violations.push_back("acass did not exit within " + std::to_string(kCliBound.count()) + " s (hang)");
        return;
    }
    if (exit.signal) {
        o.violations.push_back("acass died of signal " + std::to_string(exit.signal));
        return;
    }
    if (exit.code != 0) {
        o.outcome = "error";
        o.error = "exit " + std::to_string(exit.code);
        o.note = first_line(err);
        // A load that rejected rows (exit 6) says why per row in the reject file (-q: no summary).
        if (op == Op::cli_load && exit.code == 6 && fs::exists(rejects) && fs::file_size(rejects) > 0)
            o.note = "rejected: " + first_line(rejects);
        else if (o.note.rfind("acass", 0) != 0) o.violations.push_back("failed without an acass error message");
    }
    if (op == Op::cli_export) {
        RowTally rows;
        check_export(data, rows);
        rows.check(exit.code == 0, o);
        return;
    }
    // acass load: every row is in the table, or (failed run) listed in the reject file.
    std::string rejected;
    {
        std::ifstream in(rejects);
        std::stringstream all;
        all << in.rdbuf();
        rejected = all.str();
    }
    acass_test::run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, client_config(server));
        Session session = co_await cluster.connect();
        co_await wait_all_up(cluster, server);
        Statement st("SELECT k, v FROM rel.loaded");
        st.set_idempotent();
        auto [error, result] = co_await session.try_execute(st);
        if (error) {
            o.violations.push_back("reading the loaded rows failed: " + acass_test::error_name(error));
            co_return;
        }
        std::map<int, std::string> present;
        for (Row row : result) present[row.get<std::int32_t>(0)] = row.get<std::string>(1);
        int loaded = 0, lost = 0;
        for (int k = base; k < base + kLoadRows; ++k) {
            auto it = present.find(k);
            if (it != present.end()) {
                ++loaded;
                if (it->second != value_of(k)) o.violations.push_back("loaded row k=" + std::to_string(k) + " wrong");
                continue;
            }
            const std::string raw = std::to_string(k) + "," + value_of(k);
            if (exit.code == 0 || rejected.find(raw) == std::string::npos) ++lost;
        }
        // Exit 0: every row loaded. A failed run may have loaded nothing (it stopped before the
        // first row), but once it loaded some, each missing row must be in the reject file.
        if (lost && (exit.code == 0 || loaded > 0))
            o.violations.push_back(std::to_string(lost) + " rows neither loaded nor rejected (lost)");
        if (exit.code != 0) o.note += " (" + std::to_string(loaded) + " of " + std::to_string(kLoadRows) + " rows loaded)";
        co_await cluster.shutdown();
    });
}

// ---------------------------------------------------------------- the test

fs::path committed_json() { return fs::path(ACASS_SOURCE_DIR) / "docs" / "reliability-matrix.json"; }
fs::path actual_json() {
    if (const char* p = std::getenv("ACASS_RELIABILITY_JSON")) return p;
    return fs::path(ACASS_BINARY_DIR) / "reliability" / "matrix.json";
}

class FaultMatrix : public ::testing::TestWithParam<std::tuple<Fault, Op>> {
public:
    static void SetUpTestSuite() {
        acass_test::ServerSetup setup;
        setup.nodes = 3;
        setup.synthetic_rows = kSyntheticRows;
        matrix().server = acass_test::start_server(std::move(setup));
        acass_test::run([&](auto ex) -> asio::awaitable<void> {
            Cluster cluster(ex, client_config(*matrix().server));
            Session session = co_await cluster.connect();
            co_await session.execute(
                "CREATE KEYSPACE rel WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}");
            for (const char* table : {"kv", "once", "batched", "loaded"}) {
                Statement create("CREATE TABLE rel." + std::string(table) + " (k int PRIMARY KEY, v text)");
                co_await session.execute(create);
            }
            for (int k = 1; k <= kWrites; ++k) {
                Statement insert("INSERT INTO rel.kv (k, v) VALUES (" + std::to_string(k) + ", '" + value_of(k) + "')");
                co_await session.execute(insert);
            }
            co_await cluster.shutdown();
        });
    }
    static void TearDownTestSuite() {
        write_outcomes();
        matrix().server.reset();
    }

private:
    static void write_outcomes();
};

void FaultMatrix::write_outcomes() {
    auto& m = matrix();
    if (m.outcomes.empty()) return;
    std::vector<std::string> lines;
    for (Fault f : kFaults)
        for (Op op : kOps)
            if (auto it = m.outcomes.find({f, op}); it != m.outcomes.end()) lines.push_back(json_line(f, op, it->second));
    const auto write = [&](const fs::path& path) {
        fs::create_directories(path.parent_path());
        std::ofstream out(path);
        out << "[\n";
        for (std::size_t i = 0; i < lines.size(); ++i) out << lines[i] << (i + 1 < lines.size() ? ",\n" : "\n");
        out << "]\n";
    };
    write(actual_json());
    const bool complete = lines.size() == std::size(kFaults) * std::size(kOps);
    if (std::getenv("ACASS_RELIABILITY_UPDATE")) {
        if (!complete) {
            ADD_FAILURE() << "ACASS_RELIABILITY_UPDATE needs the whole matrix (no --gtest_filter)";
            return;
        }
        write(committed_json());
        std::printf("wrote %s; now run scripts/reliability_table.py\n", committed_json().c_str());
        return;
    }
    // The committed JSON (and so the table in docs/reliability.md) must say what this run saw.
    std::map<std::pair<std::string, std::string>, std::string> committed;
    std::ifstream in(committed_json());
    for (std::string line; std::getline(in, line);)
        if (line.find("\"fault\"") != std::string::npos)
            committed[{json_field(line, "fault"), json_field(line, "operation")}] = line;
    for (const auto& line : lines) {
        const auto key = std::make_pair(json_field(line, "fault"), json_field(line, "operation"));
        auto it = committed.find(key);
        const auto summary = [](const std::string& l) {
            return json_field(l, "outcome") + " " + json_field(l, "error") +
                   (json_field(l, "expected_failure").empty() ? "" : " (expected failure)");
        };
        if (it == committed.end())
            ADD_FAILURE() << key.first << " x " << key.second << ": not in " << committed_json()
                          << " (run the matrix with ACASS_RELIABILITY_UPDATE=1)";
        else if (summary(it->second) != summary(line))
            ADD_FAILURE() << key.first << " x " << key.second << ": committed outcome '" << summary(it->second)
                          << "', this run '" << summary(line) << "'; if the change is intended, run the matrix with "
                          << "ACASS_RELIABILITY_UPDATE=1 and scripts/reliability_table.py";
    }
}

TEST_P(FaultMatrix, Cell) {
    const auto [fault, op] = GetParam();
    Outcome o;
    if (fault == Fault::drop_between_pages && !paged(op)) {
        o.outcome = "n/a";
        o.note = "single-page operation";
    } else if (op == Op::cli_export || op == Op::cli_load) {
        run_cli_cell(fault, op, o);
    } else {
        run_client_cell(fault, op, o);
    }
    const auto known = known_failures().find({fault, op});
    if (known != known_failures().end()) {
        if (o.violations.empty())
            ADD_FAILURE() << "listed as a known failure (" << known->second << ") but passed: remove it from known_failures()";
        else o.expected_failure = known->second;
    } else {
        for (const auto& v : o.violations) ADD_FAILURE() << name_of(fault) << " x " << name_of(op) << ": " << v;
    }
    if (!o.violations.empty()) o.outcome = "violation";
    std::printf("[cell] %s x %s: %s %s (%lld ms) %s\n", name_of(fault).c_str(), name_of(op).c_str(), o.outcome.c_str(),
                o.error.c_str(), o.ms, o.note.c_str());
    matrix().outcomes[{fault, op}] = o;
}

// Issue 11: `acass export --host <one contact point>` completes when that node (the control
// connection's, and the first to serve pages) is stopped in the middle of the export.
TEST(ContactPoint, StoppedMidExportTheExportCompletes) {
    acass_test::ServerSetup setup;
    setup.nodes = 3;
    setup.synthetic_rows = kSyntheticRows;
    auto server = acass_test::start_server(std::move(setup));
    srv::FaultRule slow;  // pages 20 ms apart, so that the export is still running when node 1 stops
    slow.kind = srv::FaultKind::delay;
    slow.delay = 20ms;
    slow.pattern = pattern_of(Op::cli_export);
    slow.match_prepare = false;
    const std::size_t pages = server->faults().add(slow);
    std::atomic<bool> done{false};
    std::atomic<bool> stopped{false};
    std::thread stopper([&] {
        while (!done && server->faults().hits(pages) < 3) std::this_thread::sleep_for(1ms);
        if (done) return;
        server->stop_node(1);
        stopped = true;
    });
    const fs::path dir = fs::path(ACASS_BINARY_DIR) / "reliability" / "contact-point";
    fs::create_directories(dir);
    const Exit exit = run_process({std::string(ACASS_BINARY_DIR) + "/bin/acass", "export", "--table", "synthetic.rows",
                                   "-o", (dir / "export.csv").string(), "--fetch-size", std::to_string(kFetchSize),
                                   "--host", server->address(1), "--port", std::to_string(server->port()),
                                   "--timeout", "1", "-q"},
                                  dir / "stdout.txt", dir / "stderr.txt", kCliBound);
    done = true;
    stopper.join();
    EXPECT_TRUE(stopped) << "node 1 was not stopped mid-export";
    ASSERT_FALSE(exit.hung);
    EXPECT_EQ(exit.signal, 0);
    EXPECT_EQ(exit.code, 0) << first_line(dir / "stderr.txt");
    RowTally rows;
    check_export(dir / "export.csv", rows);
    Outcome o;
    rows.check(true, o);
    for (const auto& v : o.violations) ADD_FAILURE() << v;
}

INSTANTIATE_TEST_SUITE_P(Faults, FaultMatrix,
                         ::testing::Combine(::testing::ValuesIn(kFaults), ::testing::ValuesIn(kOps)),
                         [](const auto& info) {
                             return id_of(std::get<0>(info.param)) + "_x_" + id_of(std::get<1>(info.param));
                         });

}  // namespace

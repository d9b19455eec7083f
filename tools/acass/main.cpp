// acass: command-line tool of async-cassandra-cpp (query, export, load, count). See
// tools/README.md for the commands, formats and exit codes.
#include "connection.hpp"
#include "count.hpp"
#include "errors.hpp"
#include "export.hpp"
#include "load.hpp"
#include "query.hpp"

#include <CLI/CLI.hpp>

#include <malloc.h>

#include <cstdio>

int main(int argc, char** argv) {
    using namespace acass_cli;
    // Large buffers (a page of big values, a 50 MB field) are mapped and unmapped on their own:
    // glibc's adaptive threshold would otherwise move them to the heap after the first free, where
    // freed memory is not given back, and peak memory would grow with each large value.
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    CLI::App app{"acass: query, export, load and count Cassandra/ScyllaDB tables"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "acass 0.1.0");

    ConnectionOptions connection;
    QueryOptions query;
    ExportOptions export_options;
    LoadOptions load;
    CountOptions count;

    auto* query_cmd = app.add_subcommand("query", "Run one CQL statement and print its rows");
    add_connection_flags(*query_cmd, connection);
    add_query_flags(*query_cmd, query);

    auto* export_cmd =
        app.add_subcommand("export", "Stream a SELECT or a table to a CSV, JSON lines or Avro file");
    add_connection_flags(*export_cmd, connection);
    add_export_flags(*export_cmd, export_options);

    auto* load_cmd = app.add_subcommand("load", "Insert a CSV or JSON lines file into a table");
    add_connection_flags(*load_cmd, connection);
    add_load_flags(*load_cmd, load);

    auto* count_cmd = app.add_subcommand("count", "Count the rows of a table (streamed)");
    add_connection_flags(*count_cmd, connection);
    add_count_flags(*count_cmd, count);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);  // prints CLI11's message and the hint to use --help
        return exit_usage;
    }

    if (*query_cmd)
        return run_command("query", connection, [&](CommandContext& c) { return run_query(c, query); });
    if (*export_cmd)
        return run_command("export", connection,
                           [&](CommandContext& c) { return run_export(c, export_options); });
    if (*load_cmd)
        return run_command("load", connection, [&](CommandContext& c) { return run_load(c, load); });
    return run_command("count", connection, [&](CommandContext& c) { return run_count(c, count); });
}

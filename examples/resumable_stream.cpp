// Resumable processing: a job streams a table, "crashes" part-way through a page, and a second
// run continues from a resume point saved to a file, so that every row is processed exactly once.
//
// ResultStream::resume_point() is row-exact: the paging state of the page the consumer is in plus
// how many of its rows were already handed out. Its text form (to_string / from_string) is one
// line of ASCII, fit for a file. The resumed stream may even use another fetch size.
//
// Here the failure is an exception between two rows and the point is saved when it is caught.
// A job that may die without unwinding (kill -9, power loss) saves the point as it goes instead,
// e.g. after each page it has fully processed (and then may redo the rows after that checkpoint).
//
//   resumable_stream --host H --port P [--rows-expected N] [--fetch-size 100] [--fail-after 1234]
//                    [--resume-fetch-size 250] [--resume-file FILE]
//
// Checks: the first run stopped after exactly --fail-after rows, and the two runs together saw
// every row of the table exactly once.
#include "example_support.hpp"

#include <unistd.h>

#include <fstream>
#include <stdexcept>

namespace ac = async_cassandra;
using example::Args;

namespace {

/// The simulated failure of the first run.
struct SimulatedCrash : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// How often each (pk, ck) of the synthetic table was processed, with the rows that were not
/// expected at all.
class SeenRows {
public:
    explicit SeenRows(std::int64_t rows) : counts_(static_cast<std::size_t>(rows), 0), rows_(rows) {}
    void process(const ac::Row& row) {
        const auto pk = row.get<std::int64_t>(0);
        const auto ck = row.get<std::int32_t>(1);
        const std::int64_t slot = pk * 100 + ck;
        if (ck < 0 || ck >= 100 || slot < 0 || slot >= rows_)
            ++unexpected_;
        else
            ++counts_[static_cast<std::size_t>(slot)];
    }
    std::int64_t missing() const { return std::count(counts_.begin(), counts_.end(), 0); }
    std::int64_t duplicated() const {
        return std::count_if(counts_.begin(), counts_.end(), [](int c) { return c > 1; });
    }
    std::int64_t unexpected() const { return unexpected_; }

private:
    std::vector<int> counts_;
    std::int64_t rows_;
    std::int64_t unexpected_ = 0;
};

/// Removes the resume file at exit when it is our temporary one.
struct ResumeFile {
    std::string path;
    bool temporary = false;
    ~ResumeFile() {
        if (temporary) ::unlink(path.c_str());
    }
    void save(const ac::ResumePoint& point) const {
        std::ofstream out(path, std::ios::trunc);
        out << point.to_string() << '\n';
        if (!out.flush()) throw std::runtime_error("cannot write " + path);
    }
    ac::ResumePoint load() const {
        std::ifstream in(path);
        std::string line;
        if (!std::getline(in, line)) throw std::runtime_error("cannot read " + path);
        return ac::ResumePoint::from_string(line);
    }
};

asio::awaitable<int> process_with_resume(ac::Session session, Args args) {
    auto expected = args.optional_int_flag("rows-expected");
    const auto fetch_size = static_cast<std::int32_t>(args.int_flag("fetch-size", 100));
    const auto resume_fetch_size = static_cast<std::int32_t>(args.int_flag("resume-fetch-size", 250));
    const std::int64_t fail_after = args.int_flag("fail-after", 1234);
    ResumeFile file;
    file.path = args.text_flag("resume-file", "");
    args.reject_unknown();
    if (file.path.empty()) {
        file.path = "/tmp/resumable_stream_" + std::to_string(::getpid()) + ".resume";
        file.temporary = true;
    }
    if (!expected) {  // size the bookkeeping from the table itself
        const ac::ResultSet count = co_await session.execute("SELECT COUNT(*) FROM synthetic.rows");
        expected = count.one()->get<std::int64_t>(0);
    }
    SeenRows seen(*expected);
    ac::Statement query("SELECT pk, ck FROM synthetic.rows");  // the same statement for both runs

    // Run 1: processes rows until the simulated crash, then saves where it was.
    std::int64_t first_run_rows = 0;
    bool crashed = false;
    {
        ac::StreamConfig config;
        config.fetch_size = fetch_size;
        ac::ResultStream stream = co_await session.execute_stream(query, config);  // closed at block end
        try {
            while (true) {
                if (first_run_rows == fail_after) throw SimulatedCrash("simulated failure");
                auto row = co_await stream.next();
                if (!row) break;
                seen.process(*row);
                ++first_run_rows;
            }
        } catch (const SimulatedCrash& e) {
            // Every row handed out by next() was processed, so the stream's own position is the
            // place to continue from.
            const ac::ResumePoint point = stream.resume_point();
            file.save(point);
            crashed = true;
            std::printf("run 1: %s after %lld rows, in page %lld (fetch size %d); saved \"%s\" to %s\n",
                        e.what(), static_cast<long long>(first_run_rows),
                        static_cast<long long>(stream.page_number()), static_cast<int>(fetch_size),
                        point.to_string().c_str(), file.path.c_str());
        }
    }
    if (!crashed)
        std::printf("run 1: finished without failing (%lld rows)\n", static_cast<long long>(first_run_rows));

    // Run 2: as a fresh process would, read the point back and continue from it.
    std::int64_t second_run_rows = 0;
    if (crashed) {
        const ac::ResumePoint point = file.load();
        ac::StreamConfig base;
        base.fetch_size = resume_fetch_size;
        const ac::StreamConfig config = base.resume_from(point);
        ac::ResultStream stream = co_await session.execute_stream(query, config);
        while (auto row = co_await stream.next()) {
            seen.process(*row);
            ++second_run_rows;
        }
        std::printf(
            "run 2: resumed (%lld rows after the saved paging state skipped, fetch size %d): %lld rows in "
            "%lld pages\n",
            static_cast<long long>(point.rows_to_skip), static_cast<int>(resume_fetch_size),
            static_cast<long long>(second_run_rows), static_cast<long long>(stream.page_number()));
    }

    std::printf("total: %lld + %lld = %lld rows; missing %lld, seen twice or more %lld, unexpected %lld\n",
                static_cast<long long>(first_run_rows), static_cast<long long>(second_run_rows),
                static_cast<long long>(first_run_rows + second_run_rows),
                static_cast<long long>(seen.missing()), static_cast<long long>(seen.duplicated()),
                static_cast<long long>(seen.unexpected()));
    if (*expected > fail_after && (!crashed || first_run_rows != fail_after))
        co_return example::fail("run 1 did not stop after --fail-after rows");
    if (seen.missing() != 0 || seen.duplicated() != 0 || seen.unexpected() != 0)
        co_return example::fail("rows were lost, repeated or unexpected across the resume");
    if (first_run_rows + second_run_rows != *expected)
        co_return example::fail("row count differs from the table");
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return example::run(argc, argv, process_with_resume);
}

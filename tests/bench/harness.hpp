#pragma once
// Tables, migrations and `bbmd serve` processes for the scenarios, as an operator would set them
// up: a migration row queued in SQL, then the real binary started on a config file.
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/bbm_fixture.hpp"
#include "support/process.hpp"
#include "support/test_db.hpp"

namespace bbmd::bench {

// A run that went wrong; the scenario reports it as an error, not as a missed target.
struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// `name`(id bigint pk, a int, b bigint NULL, changes int 0), ids 1..rows, a = id. Autovacuum is
// off on bench tables: a vacuum mid-run would hold bbmd (its autovacuum throttle) but not the
// baseline, and the figures would compare different work.
void make_source(test::TestDatabase& db, const std::string& name, long long rows);
// A fresh copy of `source`, vacuumed, analysed and checkpointed, so every run starts alike.
void fresh_copy(test::TestDatabase& db, const std::string& source, const std::string& name);

// Queues an active migration over public.<table> by id. `function`: copy_column (a -> b) or the
// SQL work function `touch` (b = a, changes + 1: a row changed twice shows as changes 2).
std::int64_t queue(test::TestDatabase& db, const std::string& table, const std::string& function, long long rows,
                   int batch_size);

// Waits until every migration is finished; throws BenchError if one fails or time runs out.
void wait_finished(test::TestDatabase& db, const std::vector<std::int64_t>& ids, std::chrono::seconds timeout);
// Seconds from the first started_at to the last finished_at of these migrations.
double migration_seconds(test::TestDatabase& db, const std::vector<std::int64_t>& ids);
// Throws BenchError unless every row of `table` was changed exactly once (the `touch` function).
void expect_each_row_once(test::TestDatabase& db, const std::string& table, long long rows);

// User + system CPU seconds of a process so far, from /proc/<pid>/stat (0 if it is gone).
double process_cpu_seconds(long pid);
// CPU seconds so far of the server processes serving bbmd's sessions (application_name bbmd and
// bbmd-listen) in `db`'s database: the backend side of bbmd's cost. Read before bbmd stops.
double bbmd_backends_cpu_seconds(test::TestDatabase& db);

// Operator defaults for pacing (backoff, lease), no startup jitter, fixed batch size, plus `extra`.
test::ConfigOverrides bench_config(const test::ConfigOverrides& extra = {});

// `bbmd serve` on its own config file, started and waited for until it serves /metrics.
class Serve {
 public:
  Serve(const test::TestDatabase& db, const test::ConfigOverrides& overrides);
  ~Serve();
  Serve(const Serve&) = delete;
  Serve& operator=(const Serve&) = delete;

  [[nodiscard]] std::string scrape() const;       // the Prometheus text of /metrics
  [[nodiscard]] long rss_kb() const;              // VmRSS from /proc
  [[nodiscard]] double cpu_seconds() const;       // user + system time so far
  [[nodiscard]] long pid() const;
  void stop();                                    // SIGTERM; throws BenchError unless it exits 0

 private:
  test::ConfigFile config_;
  std::unique_ptr<test::BbmdProcess> process_;
  int port_ = 0;
};

// A server session of its own for a baseline loop, opened just before it runs, as a DBA's psql
// would be. The session that built a table has already touched every shared buffer the build
// cycled through; a new backend pays a page fault at its first touch of each (scenario 1: 8
// faults in the building session's loop, 69,567 in bbmd's job session), and bbmd's sessions
// are new, so the baseline's must be too.
class LoopSession {
 public:
  explicit LoopSession(const std::string& conninfo);
  void exec(const std::string& sql);  // throws BenchError with the server's message
  [[nodiscard]] long backend_pid() const noexcept { return backend_pid_; }

 private:
  struct Finish {
    void operator()(pg_conn* c) const noexcept;
  };
  std::unique_ptr<pg_conn, Finish> conn_;
  long backend_pid_ = 0;
};

// Seconds taken by `f()`, on the steady clock.
template <class F>
double timed(F f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace bbmd::bench

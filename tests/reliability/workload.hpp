#pragma once
// Shared pieces of the reliability scenarios: target tables whose rows count their changes,
// migrations over them, `bbmd serve` processes watched for crashes and hangs, and the checks
// that turn a database and a fleet into the suite's tally.
//
//   TestDatabase db;  test::apply_bbmd_schema(db);
//   make_counted_table(db, "t", 1000);                       // ids 1..1000, changes 0
//   ConfigFile cfg(db, {...});  write_touch_function(cfg, "touch", "0");
//   queue_range_migration(db, "20260101000001_touch_t", "t", "touch", 1, 1000, 10);
//   Serve a(cfg, "a");  ...  a.kill9(tally);  ...  a.stop(tally);
//   wait_for_finished_migrations(db, 1, 60s, tally, "crash_loop");
//   count_row_damage(db, "t", tally);                         // rows_lost, rows_changed_twice
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "reliability/suite.hpp"
#include "support/bbm_fixture.hpp"
#include "support/process.hpp"
#include "support/test_db.hpp"

namespace bbmd::reliability {

// `table` (id bigint primary key, a int, b bigint, changes int): ids 1..rows, a = id * 10,
// b NULL, changes 0. A work function adds one to `changes` of every row it touches.
void make_counted_table(test::TestDatabase& db, const std::string& table, long rows);

// The same table and an id-keyset migration `name` over all of it (work function `function`,
// `batch_size` keys per job), as SQL: for a server of the scenario's own (a PgCluster).
std::string counted_migration_sql(const std::string& name, const std::string& table, long rows,
                                  const std::string& function, int batch_size);

// Writes the SQL work function `<name>.sql` into the config's function folder: it sleeps
// `sleep_sql` seconds once per batch (any SQL expression, "0" for none), then adds one to
// `changes` and copies a to b for every row of the batch.
void write_touch_function(const test::ConfigFile& cfg, const std::string& name, const std::string& sleep_sql);

// Queues an id-keyset migration over ids [min, max] of public.<table> with work function
// `function` and `batch_size` keys per job; returns its id.
std::int64_t queue_range_migration(test::TestDatabase& db, const std::string& name, const std::string& table,
                                   const std::string& function, std::int64_t min, std::int64_t max,
                                   std::int64_t batch_size);

struct RowDamage {
  long lost = 0;   // changes = 0: a job that should have touched the row never committed
  long twice = 0;  // changes > 1: a job's change committed more than once
};
// Counts the rows of `table` that were not changed exactly once, adds them to the tally, and
// records a failure naming the table when any is found.
RowDamage count_row_damage(test::TestDatabase& db, const std::string& table, Tally& tally);

// Waits until `expected` migrations are finished (status 2), calling `each_poll` (if set) on
// every look, e.g. to sample the server. At the deadline it counts a hang and records a failure
// with the statuses it saw; returns whether they all finished.
bool wait_for_finished_migrations(test::TestDatabase& db, long expected, std::chrono::milliseconds deadline,
                                  Tally& tally, const std::string& scenario,
                                  const std::function<void()>& each_poll = {});

// Jobs of every migration that did not end finished (status 2); records a failure when any.
long unfinished_jobs(test::TestDatabase& db, Tally& tally, const std::string& scenario);

// Connections to this database that bbmd opened (application_name 'bbmd').
long bbmd_connections(test::TestDatabase& db);

// True when a process's stderr holds an AddressSanitizer, LeakSanitizer or UBSan report.
bool has_sanitizer_report(const std::string& stderr_text);

// The local TCP ports of a process's sockets: its PostgreSQL backends' client_port.
std::set<int> tcp_ports_of(pid_t pid);

// One `bbmd serve` process of a scenario. Every way it can end is judged once: an exit the
// scenario did not cause, a non-zero exit or signal after SIGTERM, or a sanitizer report is a
// crash; not exiting within the shutdown deadline is a hang. The destructor SIGKILLs a process
// still running without judging it (the scenario already failed somewhere else).
class Serve {
 public:
  // Starts `bbmd serve <cfg>` and waits until it serves; throws if it does not.
  Serve(const test::ConfigFile& cfg, std::string label);

  [[nodiscard]] pid_t pid() const noexcept { return process_->pid(); }
  [[nodiscard]] const std::string& label() const noexcept { return label_; }
  [[nodiscard]] std::string err() const { return process_->err(); }
  [[nodiscard]] std::optional<int> debug_port() const;

  // Still running? If it ended on its own, counts a crash.
  bool alive(Tally& tally);
  // kill -9, as a fault the scenario injects; a process that was already gone is a crash.
  // `right_after` runs once the signal is sent, before the process is reaped.
  void kill9(Tally& tally, const std::function<void()>& right_after = {});
  // SIGTERM and wait for exit 0.
  void stop(Tally& tally, std::chrono::milliseconds deadline = std::chrono::seconds(20));

 private:
  void crashed(Tally& tally, const std::string& how);
  void judge_stderr(Tally& tally);

  std::unique_ptr<test::BbmdProcess> process_;
  std::string label_;
  bool judged_ = false;
};

}  // namespace bbmd::reliability

// Scenario pooler_faults: `bbmd serve` reaches PostgreSQL through a real PgBouncer in transaction
// pooling, and the pooler is restarted (its immediate shutdown cuts every open transaction),
// PAUSEd for longer than the batch statement timeout, and told to RECONNECT its server
// connections, each while a migration of its own is mid-flight. A fault counts as survived only
// if that migration finished with every row changed exactly once and no job failed; a PAUSE or a
// RECONNECT must not cost any job an attempt (nothing was cut), a restart at most one per job.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "reliability/suite.hpp"
#include "reliability/workload.hpp"
#include "support/pgbouncer.hpp"
#include "support/poll.hpp"

namespace bbmd::reliability {
namespace {

using namespace std::chrono_literals;

constexpr long kRows = 1500;
constexpr int kBatchSize = 50;  // 30 jobs of ~50 ms over two workers: mid-flight at each fault
constexpr int kJobsBeforeFault = 2;
constexpr auto kStatementTimeout = 1s;
// Queries queue inside PgBouncer while it is paused, where no statement_timeout runs: the pause
// outlasts the timeout so a client-side deadline (there must be none) would show as a failed job.
constexpr auto kPause = 3 * kStatementTimeout;
constexpr auto kFinishDeadline = 60s;

enum class Fault { restart, pause, reconnect };

const char* name_of(Fault f) {
  switch (f) {
    case Fault::restart: return "restart";
    case Fault::pause: return "PAUSE";
    case Fault::reconnect: return "RECONNECT";
  }
  return "?";
}

test::ConfigOverrides pooler_config() {
  return {{"database.backgroundmigrations.workers", "2"},
          {"database.backgroundmigrations.maxjobspertable", "2"},
          {"database.backgroundmigrations.statementtimeout", std::to_string(kStatementTimeout.count()) + "s"},
          {"database.connecttimeout", "2s"}};
}

long finished_jobs(test::TestDatabase& db, std::int64_t id) {
  return db.count("SELECT count(*) FROM background_migration_jobs WHERE status = 2 AND batched_background_migration_id = " +
                  std::to_string(id));
}

// Holds PgBouncer paused for kPause, checking that no job finishes meanwhile (nothing reaches
// the server), then resumes it. PAUSE returns once every server connection is released.
bool hold_paused(test::PgBouncer& bouncer, test::TestDatabase& db, std::int64_t id, Tally& tally) {
  bouncer.admin("PAUSE");
  const long before = finished_jobs(db, id);
  const bool moved = test::poll_until([&] { return finished_jobs(db, id) != before; }, kPause, 100ms);
  bouncer.admin("RESUME");
  return tally.expect(!moved, "pooler_faults: a job finished while PgBouncer was paused");
}

void run_fault(test::TestDatabase& db, test::PgBouncer& bouncer, Serve& serve, Fault fault, int n, Tally& tally) {
  const std::string what = std::string("pooler_faults: ") + name_of(fault) + " #" + std::to_string(n);
  std::printf("-- %s\n", what.c_str());
  std::fflush(stdout);
  const std::string table = "pooled_" + std::to_string(n);
  make_counted_table(db, table, kRows);
  const auto id = queue_range_migration(db, "20260101000000_pooled_" + std::to_string(n), table, "touch", 1, kRows,
                                        kBatchSize);
  if (!tally.expect(test::poll_until([&] { return finished_jobs(db, id) >= kJobsBeforeFault; }, 30s),
                    what + ": the migration never got going")) {
    ++tally.hangs;
    return;
  }
  ++tally.faults_injected;
  bool held = true;
  switch (fault) {
    case Fault::restart: bouncer.restart(); break;
    case Fault::pause: held = hold_paused(bouncer, db, id, tally); break;
    case Fault::reconnect: bouncer.admin("RECONNECT"); break;
  }
  const std::string status = "SELECT status FROM batched_background_migrations WHERE id = " + std::to_string(id);
  // Finished (2) or failed (3); active is 1, running 4.
  const bool finished = test::poll_until(
      [&] {
        const auto s = db.scalar(status);
        return s == "2" || s == "3";
      },
      kFinishDeadline);
  if (!finished) ++tally.hangs;
  tally.expect(db.scalar(status) == "2", what + ": migration ended with status " + db.scalar(status));
  const auto damage = count_row_damage(db, table, tally);
  const auto jobs = db.rows("SELECT count(*) FILTER (WHERE status = 3), coalesce(max(attempts), 0) "
                            "FROM background_migration_jobs WHERE batched_background_migration_id = " +
                            std::to_string(id))[0];
  const int most_attempts = fault == Fault::restart ? 2 : 1;
  const bool jobs_ok = tally.expect(jobs[0] == "0" && std::stoi(jobs[1]) <= most_attempts,
                                    what + ": " + jobs[0] + " jobs failed, most attempts " + jobs[1] +
                                        " (at most " + std::to_string(most_attempts) + " expected)");
  const bool alive = serve.alive(tally);
  const bool survived = held && db.scalar(status) == "2" && damage.lost == 0 && damage.twice == 0 && jobs_ok && alive;
  if (survived) ++tally.faults_survived;
  std::printf("   %s: rows lost %ld, changed twice %ld, failed jobs %s, most attempts %s\n",
              survived ? "survived" : "NOT survived", damage.lost, damage.twice, jobs[0].c_str(), jobs[1].c_str());
}

}  // namespace

BBMD_RELIABILITY_SCENARIO(pooler_faults, 25)(const Options& opt, Tally& tally) {
  const std::vector<Fault> round = {Fault::restart, Fault::pause, Fault::reconnect};
  const int rounds = opt.quick ? 1 : std::max(2, static_cast<int>(2 * opt.scale + 0.5));
  std::printf("   %d round(s) of %zu PgBouncer faults (transaction pooling), pause %lld ms vs statement timeout "
              "%lld ms\n",
              rounds, round.size(), static_cast<long long>(std::chrono::milliseconds(kPause).count()),
              static_cast<long long>(std::chrono::milliseconds(kStatementTimeout).count()));
  test::TestDatabase db;
  test::apply_bbmd_schema(db);
  test::PgBouncer bouncer(db.config());
  test::ConfigFile cfg(bouncer.config(db.name()), pooler_config());
  write_touch_function(cfg, "touch", "0.05");
  Serve serve(cfg, "pooled");
  int n = 0;
  for (int r = 0; r < rounds; ++r) {
    for (const Fault f : round) run_fault(db, bouncer, serve, f, ++n, tally);
  }
  serve.stop(tally);
}

}  // namespace bbmd::reliability

// Chained leases against a real PostgreSQL: a batch's commit leases the next range, unless the
// migration was paused, its row or the table's lease lock is taken, or the table is at its cap;
// and a chained job the throttle stops is released, then resumed as attempt 1, not taken over.
#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <memory>
#include <thread>

#include "bbm/lease.hpp"
#include "bbm/migration_store.hpp"
#include "bbm/runner.hpp"
#include "bbm/validator.hpp"
#include "db/connection.hpp"
#include "db/conninfo.hpp"
#include "metrics/metrics.hpp"
#include "support/async.hpp"
#include "support/bbm_fixture.hpp"
#include "support/poll.hpp"
#include "support/runner_fixture.hpp"
#include "throttle/throttle.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using bbmd::bbm::StepResult;
using bbmd::bbm::WorkRegistry;
using bbmd::test::MigrationRow;
using bbmd::test::TestDatabase;
using bbmd::test::drive;
using bbmd::test::make_table;
using bbmd::test::poll_until;
using bbmd::test::registry_with;
using Kinds = std::vector<StepResult::Kind>;
using Rows = std::vector<std::vector<std::string>>;

namespace {

bbmd::bbm::RunnerOptions chaining() {
  auto options = bbmd::test::runner_options();
  options.chain_for = 60s;
  return options;
}

// Each batch sleeps half a second, so another session can act while the first one runs.
WorkRegistry sleepy_registry() {
  return registry_with("sleepy", "WITH s AS (SELECT pg_sleep(0.5) AS slept) UPDATE {{table}} SET b = a FROM s "
                                 "WHERE {{column}} BETWEEN $1 AND $2");
}

// bbmd's schema, t with ids 1..300, and a migration over it in three batches of 100: copy_column,
// or (sleepy) the half-second SQL function above.
std::int64_t three_batches(TestDatabase& db, bool sleepy = false) {
  bbmd::test::apply_bbmd_schema(db);
  make_table(db, 300);
  MigrationRow row;
  if (sleepy) {
    row.job_signature_name = "sleepy";
    row.job_arguments = "{}";
  }
  row.max_value = 300;
  row.batch_size = 100;
  return bbmd::test::queue_migration(db, row);
}

// Another session: once the first batch sleeps, runs `during`; once that batch has committed,
// runs `after` (e.g. the ROLLBACK that ends a lock `during` took). On its own thread, because
// the runner under test blocks the test's thread.
class OtherSession {
 public:
  OtherSession(std::string conninfo, std::string during, std::string after)
      : thread_([this, conninfo, during, after] {
          std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo.c_str()), &PQfinish);
          const bool slept = poll_until([&] {
            return count(conn.get(), "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND pid <> pg_backend_pid() AND wait_event = 'PgSleep'") > 0;
          }, 10s, 5ms);
          ran_during_ = slept && exec(conn.get(), during);
          const bool committed = poll_until([&] {
            return count(conn.get(), "SELECT count(*) FROM background_migration_jobs WHERE status = 2") > 0;
          }, 10s, 5ms);
          ran_after_ = committed && exec(conn.get(), after);
        }) {}
  ~OtherSession() { join(); }
  OtherSession(const OtherSession&) = delete;
  OtherSession& operator=(const OtherSession&) = delete;

  void join() {
    if (thread_.joinable()) thread_.join();
  }
  // Both statements ran at their moment (read after join()).
  [[nodiscard]] bool acted() const { return ran_during_ && ran_after_; }

 private:
  static long long count(PGconn* c, const char* sql) {
    PGresult* r = PQexec(c, sql);
    const long long n = PQresultStatus(r) == PGRES_TUPLES_OK ? std::stoll(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
  }
  static bool exec(PGconn* c, const std::string& sql) {
    if (sql.empty()) return true;
    PGresult* r = PQexec(c, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok;
  }

  bool ran_during_ = false;
  bool ran_after_ = false;
  std::thread thread_;
};

// Job ranges in order, and whether each job was leased in the transaction that finished the job
// before it (same transaction, same now(): its created_at is that job's finished_at).
Rows chained_jobs(TestDatabase& db) {
  return db.rows("SELECT min_value, max_value, status, attempts, "
                 "coalesce(created_at = lag(finished_at) OVER (ORDER BY min_value), false) AS chained "
                 "FROM background_migration_jobs ORDER BY min_value");
}

// Stops every check after the first: the lease goes ahead, the job the lease chains does not.
class StopAfterFirst : public bbmd::throttle::Indicator {
 public:
  [[nodiscard]] std::string_view name() const override { return "test_stop"; }
  asio::awaitable<std::optional<bbmd::throttle::Stop>> check(bbmd::db::Connection&,
                                                             const bbmd::throttle::Context&) override {
    if (checks_++ == 0) co_return std::nullopt;
    bbmd::throttle::Stop stop;
    stop.reason = "test_stop";
    stop.detail = "the test says stop";
    co_return stop;
  }

 private:
  int checks_ = 0;
};

}  // namespace

TEST_CASE("one step goes from job to job: each batch's commit leases the next range", "[bbm][chain]") {
  TestDatabase db;
  const auto id = three_batches(db);

  CHECK(drive(db, WorkRegistry{}, id, chaining()) ==
        Kinds{StepResult::Kind::job_finished, StepResult::Kind::migration_finished});
  CHECK(chained_jobs(db) == Rows{{"1", "100", "2", "1", "f"}, {"101", "200", "2", "1", "t"},
                                 {"201", "300", "2", "1", "t"}});
  CHECK(db.count("SELECT count(*) FROM t WHERE b IS DISTINCT FROM a") == 0);
  // A chained lease starts, and expires, counting from when it was cut, not from when the batch
  // whose transaction cut it began (that transaction's now(), its created_at).
  CHECK(db.rows("SELECT min_value, started_at > created_at, lease_expires_at IS NULL "
                "FROM background_migration_jobs WHERE min_value > 1 ORDER BY min_value") ==
        Rows{{"101", "t", "t"}, {"201", "t", "t"}});
}

TEST_CASE("a step with chain_for 0 runs one job and leases nothing ahead", "[bbm][chain]") {
  TestDatabase db;
  const auto id = three_batches(db);

  CHECK(drive(db, WorkRegistry{}, id, bbmd::test::runner_options(), 1) == Kinds{StepResult::Kind::job_finished});
  CHECK(chained_jobs(db) == Rows{{"1", "100", "2", "1", "f"}});
}

// While another session holds a lock (`during` takes it as the first batch runs, `after` lets go
// once that batch committed), the first batch's commit leases nothing ahead and does not wait;
// the next step leases as usual once the lock is free, and chains the third job.
void expect_first_chain_skipped(const std::string& during, const std::string& after) {
  TestDatabase db;
  const auto id = three_batches(db, true);
  OtherSession other(db.conninfo(), during, after);

  const auto kinds = drive(db, sleepy_registry(), id, chaining());
  other.join();
  REQUIRE(other.acted());
  CHECK(kinds == Kinds{StepResult::Kind::job_finished, StepResult::Kind::job_finished,
                       StepResult::Kind::migration_finished});
  CHECK(chained_jobs(db) == Rows{{"1", "100", "2", "1", "f"}, {"101", "200", "2", "1", "f"},
                                 {"201", "300", "2", "1", "t"}});
}

TEST_CASE("no chained lease while another session holds the migration row: the batch commits without waiting",
          "[bbm][chain]") {
  expect_first_chain_skipped("BEGIN; SELECT 1 FROM batched_background_migrations FOR NO KEY UPDATE", "ROLLBACK");
}

TEST_CASE("no chained lease while another lease holds the table's lease lock", "[bbm][chain]") {
  expect_first_chain_skipped("SELECT pg_advisory_lock((x'62626d74'::bigint << 32) | 'public.t'::regclass::oid::bigint)",
                             "SELECT pg_advisory_unlock_all()");
}

TEST_CASE("no chained lease once the migration is paused: the next step finds it gone", "[bbm][chain]") {
  TestDatabase db;
  const auto id = three_batches(db, true);
  OtherSession other(db.conninfo(), "UPDATE batched_background_migrations SET status = 0", "");

  const auto kinds = drive(db, sleepy_registry(), id, chaining());
  other.join();
  REQUIRE(other.acted());
  CHECK(kinds == Kinds{StepResult::Kind::job_finished, StepResult::Kind::gone});
  CHECK(chained_jobs(db) == Rows{{"1", "100", "2", "1", "f"}});
}

TEST_CASE("no chained lease when another migration's job runs on the same table", "[bbm][chain]") {
  TestDatabase db;
  const auto id = three_batches(db, true);
  MigrationRow other_row;
  other_row.name = "20260101000001_other_migration_on_t";
  other_row.status = 0;
  other_row.max_value = 300;
  const auto other_id = bbmd::test::queue_migration(db, other_row);
  OtherSession other(db.conninfo(),
                     "INSERT INTO background_migration_jobs (batched_background_migration_id, min_value, max_value, "
                     "status, attempts, lease_owner, lease_token, lease_expires_at, started_at, batch_size, table_oid) "
                     "VALUES (" + std::to_string(other_id) + ", 1, 50, 1, 1, 'elsewhere', "
                     "nextval('bbm_lease_token_seq'), now() + interval '1 hour', now(), 50, 'public.t'::regclass)",
                     "");

  const auto kinds = drive(db, sleepy_registry(), id, chaining(), 2);
  other.join();
  REQUIRE(other.acted());
  CHECK(kinds == Kinds{StepResult::Kind::job_finished, StepResult::Kind::busy});
  CHECK(db.rows("SELECT min_value, max_value, status FROM background_migration_jobs "
                "WHERE batched_background_migration_id = " + std::to_string(id)) == Rows{{"1", "100", "2"}});
}

TEST_CASE("a chained job the throttle stops is released, then resumed as attempt 1 and not as a takeover",
          "[bbm][chain]") {
  TestDatabase db;
  const auto id = three_batches(db);

  bbmd::metrics::Metrics metrics;
  const WorkRegistry registry;
  const auto options = chaining();
  const auto resumed = bbmd::test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<bbmd::bbm::LeaseOutcome> {
    auto conn = co_await bbmd::db::Connection::connect(ex, bbmd::db::conn_params(db.config(), "bbmd-test"));
    std::vector<std::unique_ptr<bbmd::throttle::Indicator>> indicators;
    indicators.push_back(std::make_unique<StopAfterFirst>());
    bbmd::throttle::Throttle throttle(std::move(indicators), metrics);
    bbmd::bbm::Runner runner(registry, metrics, bbmd::log::Logger("test"), options, nullptr, &throttle);
    const auto m = co_await bbmd::bbm::migration_by_id(*conn, id);
    const auto step = co_await runner.step(*conn, *m);
    CHECK(step.kind == StepResult::Kind::held);
    CHECK(db.rows("SELECT min_value, status, attempts, lease_owner IS NULL, lease_expires_at < now() "
                  "FROM background_migration_jobs ORDER BY min_value") ==
          Rows{{"1", "2", "1", "f", "NULL"}, {"101", "1", "0", "t", "t"}});

    bbmd::bbm::Validator validator(registry);
    bbmd::bbm::Target target;
    const auto verdict = co_await validator.validate(*conn, *m, target);
    REQUIRE(verdict.runnable());
    co_return co_await bbmd::bbm::lease_next_job(*conn, *m, target, 100, options.lease);
  });
  CHECK(resumed.kind == bbmd::bbm::LeaseOutcome::Kind::leased);
  CHECK(resumed.job.min_value == 101);
  CHECK(resumed.job.attempts == 1);
  CHECK_FALSE(resumed.job.takeover);
}

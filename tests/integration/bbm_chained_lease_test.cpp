// Chained leases against a real PostgreSQL: a batch's commit leases the next range, unless the
// migration was paused, its row is locked, the table is at its cap or the batch outlived its
// lease (the lease locks it does not need); a chained job the throttle stops is released, then
// resumed as attempt 1, not taken over; and the range lookahead, found on a spare connection, is
// taken only where the cursor stands.
#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bbm/store/lease.hpp"
#include "bbm/store/pg_store.hpp"
#include "bbm/store/range_lookahead.hpp"
#include "bbm/run/runner.hpp"
#include "bbm/run/sync_worker.hpp"
#include "db/connection.hpp"
#include "db/conninfo.hpp"
#include "db/pool.hpp"
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
using bbmd::test::poll_until;
using bbmd::test::registry_with;
using Kinds = std::vector<StepResult::Kind>;
using Rows = std::vector<std::vector<std::string>>;

namespace {

bbmd::bbm::RunnerOptions chaining() {
  auto options = bbmd::test::runner_options();
  options.stay_for = 60s;
  return options;
}

// Each batch sleeps half a second, so another session can act while the first one runs.
WorkRegistry sleepy_registry() {
  return registry_with("sleepy", "WITH s AS (SELECT pg_sleep(0.5) AS slept) UPDATE {{table}} SET b = a FROM s "
                                 "WHERE {{column}} BETWEEN $1 AND $2");
}

// t with ids 1..300 and a migration over it in three batches of 100: copy_column, or (sleepy)
// the half-second SQL function above.
std::int64_t three_batches(TestDatabase& db, bool sleepy = false) {
  return bbmd::test::queue_over_t(db, 300, 100, sleepy ? "sleepy" : "copy_column");
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

// The registry queues id-keyset migrations up to the largest bigint, so the last range's batch
// still asks for a next one: finding no key left and no job unfinished, its commit finishes the
// migration (the job row and the migration row carry the same transaction id), and no lease
// runs after it.
TEST_CASE("the batch that runs the last range finishes a migration queued past its last key in the same commit",
          "[bbm][chain]") {
  TestDatabase db;
  const auto id = three_batches(db);
  db.exec("UPDATE batched_background_migrations SET max_value = 9223372036854775807 WHERE id = " + std::to_string(id));

  // One step: its last job's commit ends the migration (no lease after it, no second step).
  CHECK(drive(db, WorkRegistry{}, id, chaining()) == Kinds{StepResult::Kind::migration_finished});
  CHECK(chained_jobs(db) == Rows{{"1", "100", "2", "1", "f"}, {"101", "200", "2", "1", "t"},
                                 {"201", "300", "2", "1", "t"}});
  CHECK(db.rows("SELECT m.status, m.finished_at IS NOT NULL, m.xmin = j.xmin FROM batched_background_migrations m "
                "JOIN background_migration_jobs j ON j.batched_background_migration_id = m.id AND j.min_value = 201") ==
        Rows{{"2", "t", "t"}});
  CHECK(db.count("SELECT count(*) FROM t WHERE b IS DISTINCT FROM a") == 0);
}

// A job left unfinished (here: failed, attempts left) keeps the migration open: the commit of the
// last range does not finish it, and the next step retries that job.
TEST_CASE("the last range's commit leaves a migration with a failed job open", "[bbm][chain]") {
  TestDatabase db;
  const auto id = three_batches(db);
  db.exec("UPDATE batched_background_migrations SET max_value = 9223372036854775807 WHERE id = " + std::to_string(id));
  db.exec("INSERT INTO background_migration_jobs (batched_background_migration_id, min_value, max_value, status, "
          "attempts) VALUES (" + std::to_string(id) + ", 1, 100, 3, 1)");
  db.exec("UPDATE t SET b = a WHERE id <= 100");

  const auto kinds = drive(db, WorkRegistry{}, id, chaining());
  CHECK(kinds.front() == StepResult::Kind::job_finished);
  CHECK(kinds.back() == StepResult::Kind::migration_finished);
  CHECK(db.rows("SELECT m.status, m.xmin = j.xmin FROM batched_background_migrations m "
                "JOIN background_migration_jobs j ON j.batched_background_migration_id = m.id AND j.min_value = 201") ==
        Rows{{"2", "f"}});
  CHECK(db.count("SELECT count(*) FROM background_migration_jobs WHERE status <> 2") == 0);
}

TEST_CASE("a step with stay_for 0 runs one job and leases nothing ahead", "[bbm][chain]") {
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

// The same transaction finishes the job the chain replaces, so a chain never raises a count: it
// needs neither lease lock, even with the fleet at its cap of one job (its own).
TEST_CASE("a chained lease goes ahead while other leases hold the table's and the fleet's lease locks", "[bbm][chain]") {
  TestDatabase db;
  const auto id = three_batches(db, true);
  OtherSession other(db.conninfo(),
                     "SELECT pg_advisory_lock((x'62626d74'::bigint << 32) | 'public.t'::regclass::oid::bigint), "
                     "pg_advisory_lock(x'62626d66'::bigint)",
                     "SELECT pg_advisory_unlock_all()");
  auto options = chaining();
  options.lease.max_running_jobs = 1;

  const auto kinds = drive(db, sleepy_registry(), id, options);
  other.join();
  REQUIRE(other.acted());
  CHECK(kinds == Kinds{StepResult::Kind::job_finished, StepResult::Kind::migration_finished});
  CHECK(chained_jobs(db) == Rows{{"1", "100", "2", "1", "f"}, {"101", "200", "2", "1", "t"},
                                 {"201", "300", "2", "1", "t"}});
}

// Other leases stop counting a job once its lease has expired, so a chain swapping it for a new
// one would raise the running-job count past a cap they filled meanwhile: each half-second batch
// outlives its 200 ms lease, so each commit leases nothing ahead and the next step leases anew.
TEST_CASE("no chained lease for a batch that outlived its own lease", "[bbm][chain]") {
  TestDatabase db;
  const auto id = three_batches(db, true);
  auto options = chaining();
  options.lease.duration = 200ms;

  const auto kinds = drive(db, sleepy_registry(), id, options);
  CHECK(kinds == Kinds{StepResult::Kind::job_finished, StepResult::Kind::job_finished, StepResult::Kind::job_finished,
                       StepResult::Kind::migration_finished});
  CHECK(chained_jobs(db) == Rows{{"1", "100", "2", "1", "f"}, {"101", "200", "2", "1", "f"},
                                 {"201", "300", "2", "1", "f"}});
  CHECK(db.count("SELECT count(*) FROM t WHERE b IS DISTINCT FROM a") == 0);
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
    bbmd::test::TestRunner runner(*conn, registry, metrics, options, nullptr, &throttle);
    const auto step = co_await runner.step(id);
    CHECK(step.kind == StepResult::Kind::held);
    CHECK(db.rows("SELECT min_value, status, attempts, lease_owner IS NULL, lease_expires_at < now() "
                  "FROM background_migration_jobs ORDER BY min_value") ==
          Rows{{"1", "2", "1", "f", "NULL"}, {"101", "1", "0", "t", "t"}});

    const auto v = co_await bbmd::test::validated(*conn, id, registry);
    co_return co_await bbmd::bbm::PgStore(*conn).lease(v.m, v.target, 100, options.lease);
  });
  CHECK(resumed.kind == bbmd::bbm::LeaseOutcome::Kind::leased);
  CHECK(resumed.job.min_value == 101);
  CHECK(resumed.job.attempts == 1);
  CHECK_FALSE(resumed.job.takeover);
}

namespace {

// The job a chained lease cuts with `lookahead`, run in a transaction of its own, for a batch of
// `running` (whose lease is live) that finishes nothing: the jobs cut stay leased.
asio::awaitable<std::optional<bbmd::bbm::Job>> chain_with(bbmd::db::Connection& conn, const bbmd::bbm::Bbm& m,
                                                         const bbmd::bbm::Target& target, const bbmd::bbm::Job& running,
                                                         const bbmd::bbm::LeaseOptions& options,
                                                         std::optional<bbmd::bbm::KeyRange> lookahead) {
  const bbmd::bbm::ChainRequest request{100, options, nullptr};
  const auto statements =
      bbmd::bbm::chained_lease(m, target, running, request, lookahead, bbmd::db::Statement{"SELECT 0", {}});
  const auto results = co_await conn.pipeline("test_chain", statements);
  co_return bbmd::bbm::chained_job(results[bbmd::bbm::kChainCut]);
}

using Range = std::pair<std::int64_t, std::int64_t>;

// A pool of one connection to `db`, as the lookahead borrows from.
std::shared_ptr<bbmd::db::Pool> one_connection_pool(asio::any_io_executor ex, const TestDatabase& db,
                                                    bbmd::db::QueryObserver observer = {}) {
  bbmd::db::Pool::Options options;
  options.max_open = 1;
  return bbmd::db::Pool::create(ex, bbmd::db::conn_params(db.config(), "bbmd-test"), options, std::move(observer));
}

// Another session holding an ACCESS EXCLUSIVE lock on t until reset (not the test's own session:
// it polls pg_stat_activity, which a transaction would show as it was when first read).
std::unique_ptr<PGconn, decltype(&PQfinish)> lock_table_t(const TestDatabase& db) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> locker(PQconnectdb(db.conninfo().c_str()), &PQfinish);
  PQclear(PQexec(locker.get(), "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE"));
  return locker;
}

Range range_of(const std::optional<bbmd::bbm::Job>& job) {
  return job ? Range{job->min_value, job->max_value} : Range{0, 0};
}

}  // namespace

TEST_CASE("a chained lease takes the lookahead's range only if it starts at the cursor and ends within the migration",
          "[bbm][chain][lookahead]") {
  TestDatabase db;
  const auto id = bbmd::test::queue_over_t(db, 500, 100);

  auto options = bbmd::test::runner_options().lease;
  options.max_jobs_per_table = 10;  // the jobs stay leased: each lease here is one more running job
  const WorkRegistry registry;
  const auto ranges = bbmd::test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::vector<Range>> {
    auto conn = co_await bbmd::db::Connection::connect(ex, bbmd::db::conn_params(db.config(), "bbmd-test"));
    const auto v = co_await bbmd::test::validated(*conn, id, registry);
    const auto& m = v.m;
    const auto& target = v.target;
    const auto first = co_await bbmd::bbm::PgStore(*conn).lease(m, target, 100, options);
    std::vector<Range> out{Range{first.job.min_value, first.job.max_value}};
    // Starts at the cursor (101), ends within: taken as it is, though the scan would end at 200.
    out.push_back(range_of(co_await chain_with(*conn, m, target, first.job, options, bbmd::bbm::KeyRange{101, 150})));
    // Starts elsewhere (the cursor moved on since the lookahead began): the lease scans.
    out.push_back(range_of(co_await chain_with(*conn, m, target, first.job, options, bbmd::bbm::KeyRange{999, 1000})));
    // Ends before it starts, or past the migration's max_value: the lease scans.
    out.push_back(range_of(co_await chain_with(*conn, m, target, first.job, options, bbmd::bbm::KeyRange{251, 250})));
    out.push_back(range_of(co_await chain_with(*conn, m, target, first.job, options, bbmd::bbm::KeyRange{351, 501})));
    // No lookahead at all.
    out.push_back(range_of(co_await chain_with(*conn, m, target, first.job, options, std::nullopt)));
    co_return out;
  });
  CHECK(ranges == std::vector<Range>{{1, 100}, {101, 150}, {151, 250}, {251, 350}, {351, 450}, {451, 500}});
  CHECK(db.rows("SELECT min_value, max_value, status, attempts FROM background_migration_jobs ORDER BY min_value") ==
        Rows{{"1", "100", "1", "1"}, {"101", "150", "1", "1"}, {"151", "250", "1", "1"}, {"251", "350", "1", "1"},
             {"351", "450", "1", "1"}, {"451", "500", "1", "1"}});
}

TEST_CASE("the range lookahead finds the next range on a spare pooled connection, and only when one is free",
          "[bbm][chain][lookahead]") {
  TestDatabase db;
  const auto id = three_batches(db);
  db.exec("DELETE FROM t WHERE id BETWEEN 150 AND 159");  // keyset: the range skips the gap
  const WorkRegistry registry;

  bbmd::test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto conn = co_await bbmd::db::Connection::connect(ex, bbmd::db::conn_params(db.config(), "bbmd-test"));
    const auto v = co_await bbmd::test::validated(*conn, id, registry);
    const auto& target = v.target;
    auto pool = one_connection_pool(ex, db);
    bbmd::bbm::RangeLookahead lookahead(pool, 60s, 60s);

    lookahead.start(ex, target, 101, 300, 100);
    const bool found = co_await bbmd::test::async_poll_until([&] { return lookahead.ready(101, 100).has_value(); }, 10s, 5ms);
    REQUIRE(found);
    const auto range = lookahead.ready(101, 100)->range;
    CHECK(Range{range.min, range.max} == Range{101, 210});
    CHECK_FALSE(lookahead.ready(101, 50));   // another batch size: not this lookup
    CHECK_FALSE(lookahead.ready(201, 100));  // another start: not this lookup
    CHECK(pool->stats().in_use == 0);        // the connection went back

    // With the pool's only connection taken, a lookahead does not start (nor wait for it).
    auto held = co_await pool->acquire();
    lookahead.start(ex, target, 211, 300, 100);
    const bool ran = co_await bbmd::test::async_poll_until([&] { return lookahead.ready(211, 100).has_value(); }, 200ms, 5ms);
    CHECK_FALSE(ran);
    CHECK(pool->stats().waiting == 0);
  });
}

TEST_CASE("with a lookahead pool, chained leases take the ranges the lookahead found while each batch ran",
          "[bbm][chain][lookahead]") {
  TestDatabase db;
  const auto id = three_batches(db, true);
  std::multiset<std::string> queries;
  bbmd::metrics::Metrics metrics;
  const auto registry = sleepy_registry();
  const auto kinds = bbmd::test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<Kinds> {
    auto conn = co_await bbmd::db::Connection::connect(ex, bbmd::db::conn_params(db.config(), "bbmd-test"));
    auto pool = one_connection_pool(ex, db, [&](std::string_view name, double, bool) { queries.emplace(name); });
    bbmd::test::TestRunner runner(*conn, registry, metrics, chaining(), nullptr, nullptr, pool);
    Kinds out;
    for (int i = 0; i < 3 && (out.empty() || out.back() == StepResult::Kind::job_finished); ++i) {
      const auto step = co_await runner.step(id);
      out.push_back(step.kind);
    }
    co_return out;
  });
  CHECK(kinds == Kinds{StepResult::Kind::job_finished, StepResult::Kind::migration_finished});
  CHECK(chained_jobs(db) == Rows{{"1", "100", "2", "1", "f"}, {"101", "200", "2", "1", "t"},
                                 {"201", "300", "2", "1", "t"}});
  // One lookahead during each batch that had a range after it (the third had none).
  CHECK(queries.count("bbm_batch_range_lookahead") == 2);
  // Each range found is counted as a batching query: the first lease's own scan, then the two
  // lookaheads the chained leases took (a lookahead not taken would not be counted).
  const auto text = metrics.scrape();
  CHECK(text.find("registry_bbm_query_duration_seconds_count{migration_id=\"" + std::to_string(id) +
                  "\",migration_name=\"" + MigrationRow{}.name + "\"} 3") != std::string::npos);
}

namespace {

// How a lookup stuck behind a lock on t ends: stopped (shutdown), or by its own lock timeout.
enum class LookupEnd { stopped, lock_timeout };

// Starts a lookup while another session locks t, ends it as `end` says, and checks that the
// connection was dropped (stopped mid-query) or kept (a lock timeout leaves it usable), that
// nothing was found, and that once the lock is gone the same lookahead looks up again.
void check_lookup_behind_lock(LookupEnd end) {
  TestDatabase db;
  const auto id = three_batches(db);
  const WorkRegistry registry;
  const auto lock_timeout = end == LookupEnd::lock_timeout ? 300ms : 60s;
  bbmd::test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto conn = co_await bbmd::db::Connection::connect(ex, bbmd::db::conn_params(db.config(), "bbmd-test"));
    const auto v = co_await bbmd::test::validated(*conn, id, registry);
    auto pool = one_connection_pool(ex, db);
    bbmd::bbm::RangeLookahead lookahead(pool, 60s, lock_timeout);

    auto locker = lock_table_t(db);
    const auto started = std::chrono::steady_clock::now();
    lookahead.start(ex, v.target, 101, 300, 100);
    const bool blocked = co_await bbmd::test::async_poll_until([&] {
      return db.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND wait_event_type = 'Lock'") == 1;
    }, 10s, 1ms);
    if (end == LookupEnd::stopped) {
      REQUIRE(blocked);
      lookahead.stop();
    }
    const bool gave_up = co_await bbmd::test::async_poll_until([&] { return pool->stats().in_use == 0; }, 10s, 5ms);
    const auto waited = std::chrono::steady_clock::now() - started;
    REQUIRE(gave_up);
    if (end == LookupEnd::lock_timeout) {
      CHECK(waited >= lock_timeout);
      CHECK(waited < 5s);
      // The server gave up too (a stopped lookup's backend waits until it notices the client left).
      CHECK(db.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                     "AND wait_event_type = 'Lock'") == 0);
    }
    // Stopped mid-query, the connection is dropped; a lock timeout leaves it usable.
    CHECK(pool->stats().open == (end == LookupEnd::stopped ? 0u : 1u));
    CHECK_FALSE(lookahead.ready(101, 100));
    locker.reset();

    lookahead.start(ex, v.target, 101, 300, 100);
    const bool found = co_await bbmd::test::async_poll_until([&] { return lookahead.ready(101, 100).has_value(); }, 10s, 5ms);
    REQUIRE(found);
    CHECK(lookahead.ready(101, 100)->range.max == 200);
  });
}

}  // namespace

TEST_CASE("stopping the lookahead cancels a lookup stuck behind a lock and drops its connection",
          "[bbm][chain][lookahead]") {
  check_lookup_behind_lock(LookupEnd::stopped);
}

TEST_CASE("a lookup stuck behind a lock gives up at the lock timeout and its connection serves the next one",
          "[bbm][chain][lookahead]") {
  check_lookup_behind_lock(LookupEnd::lock_timeout);
}

TEST_CASE("the foreground run looks ahead too, when given a lookahead pool", "[bbm][chain][lookahead]") {
  TestDatabase db;
  const auto id = three_batches(db, true);
  std::multiset<std::string> queries;
  bbmd::metrics::Metrics metrics;
  const auto registry = sleepy_registry();
  const auto report = bbmd::test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<bbmd::bbm::SyncReport> {
    auto conn = co_await bbmd::db::Connection::connect(ex, bbmd::db::conn_params(db.config(), "bbmd-test"));
    auto pool = one_connection_pool(ex, db, [&](std::string_view name, double, bool) { queries.emplace(name); });
    bbmd::bbm::SyncWorker worker(registry, metrics, chaining(), [](const std::string&) {}, pool);
    co_return co_await worker.run_all(*conn);
  });
  CHECK(report.all_finished());
  CHECK(db.rows("SELECT status FROM batched_background_migrations WHERE id = " + std::to_string(id)) == Rows{{"2"}});
  CHECK(chained_jobs(db) == Rows{{"1", "100", "2", "1", "f"}, {"101", "200", "2", "1", "t"},
                                 {"201", "300", "2", "1", "t"}});
  CHECK(queries.count("bbm_batch_range_lookahead") == 2);
}

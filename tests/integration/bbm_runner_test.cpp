// The worker's step against a real PostgreSQL: exact job rows, null keyset, failure codes,
// holds (a grant revoked mid-migration among them), retries and the lease fence.
#include <catch2/catch.hpp>
#include <functional>

#include "bbm/store/pg_store.hpp"
#include "bbm/run/runner.hpp"
#include "bbm/model/status_codes.hpp"
#include "db/connection.hpp"
#include "db/conninfo.hpp"
#include "metrics/metrics.hpp"
#include "support/async.hpp"
#include "support/bbm_fixture.hpp"
#include "support/roles.hpp"
#include "support/runner_fixture.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using bbmd::bbm::StepResult;
using bbmd::bbm::WorkRegistry;
using bbmd::test::MigrationRow;
using bbmd::test::TestDatabase;
using bbmd::test::drive;
using bbmd::test::make_table;
using bbmd::test::registry_with;
using Rows = std::vector<std::vector<std::string>>;


TEST_CASE("93 rows in batches of 50: exact jobs, data changed, migration finished", "[bbm][runner]") {
  TestDatabase db;
  const auto id = bbmd::test::queue_over_t(db, 93, 50);

  const auto kinds = drive(db, WorkRegistry{}, id);
  CHECK(kinds == std::vector<StepResult::Kind>{StepResult::Kind::job_finished, StepResult::Kind::job_finished,
                                               StepResult::Kind::migration_finished});
  CHECK(db.rows("SELECT min_value, max_value, status, attempts, rows_affected, batch_size, "
                "failure_error_code IS NULL, lease_expires_at IS NULL FROM background_migration_jobs ORDER BY id") ==
        Rows{{"1", "50", "2", "1", "50", "50", "t", "t"}, {"51", "93", "2", "1", "43", "50", "t", "t"}});
  CHECK(db.count("SELECT count(*) FROM t WHERE b = a") == 93);
  CHECK(db.rows("SELECT status, started_at IS NOT NULL, finished_at IS NOT NULL, failure_error_code IS NULL, "
                "total_tuple_count FROM batched_background_migrations") == Rows{{"2", "t", "t", "t", "93"}});
}

TEST_CASE("ranges skip gaps and never hold more than batch_size rows", "[bbm][runner]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  db.exec("CREATE TABLE t (id bigint PRIMARY KEY, a int NOT NULL, b bigint)");
  db.exec("INSERT INTO t SELECT g, g, NULL FROM generate_series(1, 1000, 7) g");  // 143 rows, gaps of 6
  db.exec("ANALYZE t");  // with statistics, the estimate comes from the planner's histogram
  MigrationRow row;
  row.max_value = 1000;
  row.batch_size = 40;
  const auto id = bbmd::test::queue_migration(db, row);
  drive(db, WorkRegistry{}, id);
  CHECK(db.rows("SELECT min_value, max_value, rows_affected FROM background_migration_jobs ORDER BY id") ==
        Rows{{"1", "274", "40"}, {"275", "554", "40"}, {"555", "834", "40"}, {"835", "995", "23"}});
  CHECK(db.count("SELECT count(*) FROM t WHERE b IS DISTINCT FROM a") == 0);
  CHECK(db.scalar("SELECT status FROM batched_background_migrations") == "2");
  const auto estimate = db.count("SELECT total_tuple_count FROM batched_background_migrations");
  CHECK(estimate >= 130);
  CHECK(estimate <= 156);
}

TEST_CASE("null keyset fills every NULL and finishes: without its partial index it is held", "[bbm][runner]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  const auto id = bbmd::test::queue_fill_n(db, MigrationRow{}.name);

  SECTION("without the partial index: held with a reason, not failed, no job") {
    const auto kinds = drive(db, WorkRegistry{}, id);
    CHECK(kinds == std::vector<StepResult::Kind>{StepResult::Kind::held});
    CHECK(db.rows("SELECT status, failure_error_code IS NULL, hold_code, hold_until > now() "
                  "FROM batched_background_migrations") == Rows{{"1", "t", "missing_index", "t"}});
    CHECK(db.scalar("SELECT hold_reason FROM batched_background_migrations")
              .find("CREATE INDEX CONCURRENTLY ON \"public\".\"n\" (\"id\") WHERE \"v\" IS NULL") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM background_migration_jobs") == 0);
  }

  SECTION("with the partial index: every NULL filled, others untouched, finished, hold cleared") {
    drive(db, WorkRegistry{}, id);  // held first
    db.exec("CREATE INDEX n_v_null ON n (id) WHERE v IS NULL");
    const auto kinds = drive(db, WorkRegistry{}, id);
    CHECK(kinds.back() == StepResult::Kind::migration_finished);
    CHECK(db.count("SELECT count(*) FROM n WHERE v IS NULL") == 0);
    CHECK(db.count("SELECT count(*) FROM n WHERE v = -1") == 66);
    CHECK(db.count("SELECT count(DISTINCT v) FROM n WHERE v <> -1") == 134);
    CHECK(db.count("SELECT sum(rows_affected) FROM background_migration_jobs") == 134);
    CHECK(db.count("SELECT count(*) FROM background_migration_jobs WHERE rows_affected > 30") == 0);
    CHECK(db.rows("SELECT status, hold_code IS NULL FROM batched_background_migrations") == Rows{{"2", "t"}});
  }
}

TEST_CASE("bad rows fail with their code and leave everything else alone", "[bbm][runner][validation]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  make_table(db, 10);
  db.exec("CREATE TABLE x (id int)");
  MigrationRow row;
  row.max_value = 10;

  struct Case {
    const char* what;
    std::function<void(MigrationRow&)> edit;
    int code;
  };
  const std::vector<Case> cases = {
      {"missing table", [](MigrationRow& r) { r.table_name = "public.nope"; }, 1},
      {"injection in table_name", [](MigrationRow& r) { r.table_name = "public.t; DROP TABLE x"; }, 1},
      {"missing column", [](MigrationRow& r) { r.column_name = "nope"; }, 2},
      {"quotes in column_name", [](MigrationRow& r) { r.column_name = "id\"; DROP TABLE x; --"; }, 2},
      {"copy_column target missing", [](MigrationRow& r) { r.job_arguments = R"({"from": "a", "to": "zz"})"; }, 2},
      {"bad batching strategy", [](MigrationRow& r) { r.batching_strategy = "offset_scan"; }, 5},
      {"fill_from_sequence on id keyset",
       [](MigrationRow& r) {
         r.job_signature_name = "fill_from_sequence";
         r.job_arguments = R"({"sequence": "public.s"})";
       },
       5},
      {"min above max", [](MigrationRow& r) { r.min_value = 20; }, 6},
      {"job arguments of the wrong shape", [](MigrationRow& r) { r.job_arguments = R"({"from": 1})"; }, 7},
      {"zero batch size", [](MigrationRow& r) { r.batch_size = 0; }, 9},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) {
      MigrationRow bad = row;
      c.edit(bad);
      const auto id = bbmd::test::queue_migration(db, bad);
      const auto kinds = drive(db, WorkRegistry{}, id);
      CHECK(kinds == std::vector<StepResult::Kind>{StepResult::Kind::migration_failed});
      CHECK(db.rows("SELECT status, failure_error_code FROM batched_background_migrations WHERE id = " +
                    std::to_string(id)) == Rows{{"3", std::to_string(c.code)}});
      CHECK(db.count("SELECT count(*) FROM background_migration_jobs") == 0);
      CHECK(db.scalar("SELECT to_regclass('public.x') IS NOT NULL") == "t");
      CHECK(db.count("SELECT count(*) FROM t WHERE b IS NOT NULL") == 0);
    }
  }
}

TEST_CASE("an unknown work function holds, then runs once a build knows it", "[bbm][runner]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  make_table(db, 20);
  MigrationRow row;
  row.max_value = 20;
  row.job_signature_name = "double_a";
  const auto id = bbmd::test::queue_migration(db, row);

  CHECK(drive(db, WorkRegistry{}, id) == std::vector<StepResult::Kind>{StepResult::Kind::held});
  CHECK(db.rows("SELECT status, hold_code, failure_error_code IS NULL FROM batched_background_migrations") ==
        Rows{{"1", "unknown_work_function", "t"}});

  const auto knows = registry_with("double_a", "UPDATE {{table}} SET b = a * 2 WHERE {{column}} BETWEEN $1 AND $2");
  const auto runnable = bbmd::test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::size_t> {
    auto conn = co_await bbmd::db::Connection::connect(ex, bbmd::db::conn_params(db.config(), "t"));
    bbmd::bbm::PgStore store(*conn);
    // Named, not a temporary inside co_await: g++ 12 destroys such a temporary twice.
    const bbmd::bbm::LeaseOptions caps{};
    const auto old_build = (co_await store.runnable(WorkRegistry{}.names(), caps)).size();
    const auto new_build = (co_await store.runnable(knows.names(), caps)).size();
    co_return old_build * 10 + new_build;
  });
  CHECK(runnable == 1);  // the old build skips the held row, the new one gets it at once
  CHECK(drive(db, knows, id).back() == StepResult::Kind::migration_finished);
  CHECK(db.count("SELECT count(*) FROM t WHERE b = a * 2") == 20);
  CHECK(db.scalar("SELECT hold_code IS NULL FROM batched_background_migrations") == "t");
}

namespace {

// Migrations on t (10 rows) and on u (empty, like t), and another worker's job on t: leased, its
// lease not expired. Returns the two migrations' ids.
std::pair<std::int64_t, std::int64_t> one_job_running_on_t(TestDatabase& db) {
  bbmd::test::apply_bbmd_schema(db);
  make_table(db, 10);
  db.exec("CREATE TABLE u (LIKE t INCLUDING ALL)");
  MigrationRow row;
  row.max_value = 10;
  const auto on_t = bbmd::test::queue_migration(db, row);
  row.name = "20260101000001_on_u";
  row.table_name = "public.u";
  const auto on_u = bbmd::test::queue_migration(db, row);
  db.exec("INSERT INTO background_migration_jobs (batched_background_migration_id, min_value, max_value, status, "
          "attempts, lease_owner, lease_token, lease_expires_at, batch_size, table_oid) VALUES (" +
          std::to_string(on_t) + ", 1, 5, 1, 1, 'other', nextval('bbm_lease_token_seq'), now() + interval '1 hour', "
          "5, 'public.t'::regclass::oid)");
  return {on_t, on_u};
}

}  // namespace

TEST_CASE("the listing leaves out a migration already at its running-job cap, and every one at the fleet's cap",
          "[bbm][runner][listing]") {
  TestDatabase db;
  const auto [on_t, on_u] = one_job_running_on_t(db);
  auto listed = [&](int per_table, int in_fleet) {
    return bbmd::test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::vector<std::int64_t>> {
      auto conn = co_await bbmd::db::Connection::connect(ex, bbmd::db::conn_params(db.config(), "t"));
      bbmd::bbm::PgStore store(*conn);
      bbmd::bbm::LeaseOptions caps;
      caps.max_jobs_per_table = per_table;
      caps.max_running_jobs = in_fleet;
      std::vector<std::int64_t> ids;
      for (const auto& m : co_await store.runnable(WorkRegistry{}.names(), caps)) ids.push_back(m.id);
      co_return ids;
    });
  };
  using Ids = std::vector<std::int64_t>;
  CHECK(listed(1, 0) == Ids{on_u});        // a lease on t's migration could only find it busy
  CHECK(listed(2, 0) == Ids{on_t, on_u});  // room for a second job on t
  CHECK(listed(2, 1).empty());             // the fleet runs as many jobs as it may
  CHECK(listed(2, 2) == Ids{on_t, on_u});
  // An expired lease is work (a takeover), not a running job.
  db.exec("UPDATE background_migration_jobs SET lease_expires_at = now() - interval '1 second'");
  CHECK(listed(1, 1) == Ids{on_t, on_u});
}

// The worker ends its pass on the second answer: no other migration could lease either.
TEST_CASE("a lease is busy at its table's cap, and says the whole fleet is full at the fleet's cap",
          "[bbm][runner][listing]") {
  TestDatabase db;
  const auto [on_t, on_u] = one_job_running_on_t(db);
  const WorkRegistry registry;  // the runner keeps a reference
  auto lease = [&](std::int64_t id, int in_fleet) {
    bbmd::metrics::Metrics metrics;
    return bbmd::test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::pair<StepResult::Kind, bool>> {
      auto conn = co_await bbmd::db::Connection::connect(ex, bbmd::db::conn_params(db.config(), "t"));
      auto options = bbmd::test::runner_options();
      options.lease.max_running_jobs = in_fleet;
      bbmd::test::TestRunner runner(*conn, registry, metrics, options);
      const auto step = co_await runner.step(id);
      co_return std::pair{step.kind, step.fleet_full};
    });
  };
  using Answer = std::pair<StepResult::Kind, bool>;
  CHECK(lease(on_t, 0) == Answer{StepResult::Kind::busy, false});  // t runs its one job
  CHECK(lease(on_u, 1) == Answer{StepResult::Kind::busy, true});   // t's job fills the fleet
  CHECK(lease(on_u, 2) == Answer{StepResult::Kind::migration_finished, false});  // room: u has no rows
  CHECK(db.count("SELECT count(*) FROM background_migration_jobs") == 1);
}

TEST_CASE("a job failing twice then succeeding ends with 3 attempts", "[bbm][runner][retry]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  make_table(db, 10);
  // The attempt counter must survive the rollback of a failed attempt: nextval is not transactional.
  db.exec("CREATE SEQUENCE attempt_seq");
  const auto flaky = registry_with(
      "flaky", "UPDATE {{table}} SET b = a WHERE {{column}} BETWEEN $1 AND $2 "
               "AND (CASE WHEN nextval('attempt_seq') < 3 THEN a / 0 ELSE 1 END) = 1");
  MigrationRow row;
  row.max_value = 10;
  row.job_signature_name = "flaky";
  const auto id = bbmd::test::queue_migration(db, row);
  const auto kinds = drive(db, flaky, id);
  CHECK(kinds == std::vector<StepResult::Kind>{StepResult::Kind::job_failed, StepResult::Kind::job_failed,
                                               StepResult::Kind::job_finished,
                                               StepResult::Kind::migration_finished});
  CHECK(db.rows("SELECT status, attempts, failure_error_code IS NULL, last_error IS NULL "
                "FROM background_migration_jobs") == Rows{{"2", "3", "t", "t"}});
  CHECK(db.count("SELECT count(*) FROM t WHERE b = a") == 10);
}

TEST_CASE("a job that always fails fails the migration with code 4 after maxjobretries attempts",
          "[bbm][runner][retry]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  make_table(db, 100);
  const auto broken = registry_with("broken", "UPDATE {{table}} SET b = a / (a - 500) WHERE {{column}} BETWEEN $1 AND $2");
  MigrationRow row;
  row.max_value = 100;
  row.batch_size = 100;
  row.job_signature_name = "broken";
  db.exec("UPDATE t SET a = 500 WHERE id = 42");  // one poisoned row makes its whole batch fail
  const auto id = bbmd::test::queue_migration(db, row);
  const auto kinds = drive(db, broken, id, bbmd::test::runner_options(4));
  CHECK(kinds == std::vector<StepResult::Kind>{StepResult::Kind::job_failed, StepResult::Kind::job_failed,
                                               StepResult::Kind::job_failed, StepResult::Kind::job_failed,
                                               StepResult::Kind::migration_failed});
  CHECK(db.rows("SELECT status, attempts, failure_error_code FROM background_migration_jobs") ==
        Rows{{"3", "4", "11"}});
  CHECK(db.scalar("SELECT last_error FROM background_migration_jobs").find("division by zero") != std::string::npos);
  CHECK(db.rows("SELECT status, failure_error_code FROM batched_background_migrations") == Rows{{"3", "4"}});
  CHECK(db.count("SELECT count(*) FROM t WHERE b IS NOT NULL") == 0);
}

TEST_CASE("a worker whose lease was taken over cannot commit", "[bbm][runner][lease]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  make_table(db, 10);
  MigrationRow row;
  row.max_value = 10;
  const auto id = bbmd::test::queue_migration(db, row);
  bbmd::metrics::Metrics metrics;
  const auto outcome = bbmd::test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<int> {
    auto conn = co_await bbmd::db::Connection::connect(ex, bbmd::db::conn_params(db.config(), "t"));
    const WorkRegistry registry;
    const auto v = co_await bbmd::test::validated(*conn, id, registry);
    const auto& m = v.m;
    const auto& target = v.target;
    bbmd::bbm::PgStore store(*conn);
    const auto lease = co_await store.lease(m, target, m.batch_size, bbmd::test::runner_options().lease);
    REQUIRE(lease.kind == bbmd::bbm::LeaseOutcome::Kind::leased);
    // Another worker takes the job over (as after an expiry): the fencing token moves on.
    db.exec("UPDATE background_migration_jobs SET lease_token = nextval('bbm_lease_token_seq')");
    const auto out = co_await store.run_batch(m, target, lease.job, {}, nullptr);
    co_return static_cast<int>(out.kind);
  });
  CHECK(outcome == static_cast<int>(bbmd::bbm::BatchOutcome::Kind::lease_lost));
  CHECK(db.count("SELECT count(*) FROM t WHERE b IS NOT NULL") == 0);
  CHECK(db.scalar("SELECT status FROM background_migration_jobs") == "1");
}

TEST_CASE("a paused migration gets no new job: resumed it continues where it stopped", "[bbm][runner][pause]") {
  TestDatabase db;
  const auto id = bbmd::test::queue_over_t(db, 100, 25);
  CHECK(drive(db, WorkRegistry{}, id, bbmd::test::runner_options(), 2).size() == 2);
  db.exec("UPDATE batched_background_migrations SET status = 0");
  CHECK(drive(db, WorkRegistry{}, id) == std::vector<StepResult::Kind>{StepResult::Kind::gone});
  CHECK(db.count("SELECT count(*) FROM background_migration_jobs") == 2);
  db.exec("UPDATE batched_background_migrations SET status = 1");
  CHECK(drive(db, WorkRegistry{}, id).back() == StepResult::Kind::migration_finished);
  CHECK(db.rows("SELECT min_value, max_value FROM background_migration_jobs ORDER BY id") ==
        Rows{{"1", "25"}, {"26", "50"}, {"51", "75"}, {"76", "100"}});
  CHECK(db.count("SELECT count(*) FROM t WHERE b = a") == 100);
}

TEST_CASE("a grant revoked mid-migration holds it with the GRANT to run, and the failed job resumes once granted",
          "[bbm][runner][privilege]") {
  TestDatabase db;
  const auto id = bbmd::test::queue_over_t(db, 300, 100);
  const auto role = bbmd::test::role_name(db, "bbmd_revoked");
  const bbmd::test::DroppedRoles dropped(db, {role});
  db.exec("CREATE ROLE " + role + " LOGIN PASSWORD 'revoked-secret'");
  db.exec("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO " + role);
  db.exec("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO " + role);
  const auto as_role = bbmd::test::login_as(db, role, "revoked-secret");

  bbmd::metrics::Metrics metrics;
  const WorkRegistry registry;
  const auto steps = [&](const std::function<void(int step)>& before_step, int count) {
    return bbmd::test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::vector<StepResult::Kind>> {
      auto conn = co_await bbmd::db::Connection::connect(ex, bbmd::db::conn_params(as_role, "bbmd-test"));
      bbmd::test::TestRunner runner(*conn, registry, metrics, bbmd::test::runner_options());
      std::vector<StepResult::Kind> kinds;
      for (int i = 0; i < count; ++i) {
        before_step(i);
        const auto step = co_await runner.step(id);
        kinds.push_back(step.kind);
      }
      co_return kinds;
    });
  };

  // The first job runs; then UPDATE on t is revoked. The next job fails on it (one attempt), and
  // the step after validates afresh and holds the migration instead of retrying.
  const auto revoked = steps([&](int step) { if (step == 1) db.exec("REVOKE UPDATE ON t FROM " + role); }, 3);
  CHECK(revoked == std::vector<StepResult::Kind>{StepResult::Kind::job_finished, StepResult::Kind::job_failed,
                                                 StepResult::Kind::held});
  const std::string reason = "permission denied: role \"" + role + "\" lacks UPDATE on public.t; run GRANT SELECT, "
                             "UPDATE ON \"public\".\"t\" TO \"" + role + "\"";
  CHECK(db.rows("SELECT status, failure_error_code IS NULL, hold_code, hold_reason FROM batched_background_migrations") ==
        Rows{{"4", "t", "insufficient_privilege", reason}});
  CHECK(db.rows("SELECT min_value, max_value, status, attempts FROM background_migration_jobs ORDER BY min_value") ==
        Rows{{"1", "100", "2", "1"}, {"101", "200", "3", "1"}});

  // The grant is the whole fix: the hold clears, the rest is cut, and the failed job is retried.
  db.exec("GRANT UPDATE ON t TO " + role);
  const auto granted = steps([](int) {}, 3);
  CHECK(granted == std::vector<StepResult::Kind>{StepResult::Kind::job_finished, StepResult::Kind::job_finished,
                                                 StepResult::Kind::migration_finished});
  CHECK(db.rows("SELECT min_value, status, attempts FROM background_migration_jobs ORDER BY min_value") ==
        Rows{{"1", "2", "1"}, {"101", "2", "2"}, {"201", "2", "1"}});
  CHECK(db.rows("SELECT status, hold_code IS NULL FROM batched_background_migrations") == Rows{{"2", "t"}});
  CHECK(db.count("SELECT count(*) FROM t WHERE b IS DISTINCT FROM a") == 0);
}

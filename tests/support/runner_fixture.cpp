// In-process runner fixtures (see runner_fixture.hpp).
#include "support/runner_fixture.hpp"

#include <stdexcept>

#include "bbm/run/checks.hpp"
#include "bbm/store/pg_store.hpp"
#include "db/connection.hpp"
#include "db/conninfo.hpp"
#include "metrics/metrics.hpp"
#include "support/async.hpp"
#include "support/bbm_fixture.hpp"

namespace bbmd::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using bbm::StepResult;

bbm::RunnerOptions runner_options(int max_attempts) {
  bbm::RunnerOptions o;
  o.lease.owner = "test";
  o.lease.duration = 30s;
  o.lease.max_attempts = max_attempts;
  o.batch.statement_timeout = 10s;
  o.batch.lock_timeout = 2s;
  o.hold_interval = 60s;
  // One job per step, so that tests see each job as a step; chained leases have their own tests
  // (bbm_chained_lease_test.cpp), and the daemon's tests run with the default.
  o.stay_for = 0ms;
  return o;
}

TestRunner::TestRunner(db::Connection& conn, const bbm::WorkRegistry& registry, metrics::Metrics& metrics,
                       bbm::RunnerOptions options, bbm::BatchSizes* sizes, throttle::Throttle* throttle,
                       std::shared_ptr<db::Pool> lookahead_pool)
    : conn_(conn),
      validator_(registry),
      throttle_(throttle),
      runner_(metrics, log::Logger("test"), std::move(options), sizes, std::move(lookahead_pool)) {}

asio::awaitable<bbm::StepResult> TestRunner::step(std::int64_t id) {
  bbm::PgStore store(conn_);
  bbm::PgChecks checks(conn_, validator_, throttle_);
  const auto m = co_await store.find(id);
  if (!m) throw std::runtime_error("migration " + std::to_string(id) + " not found");
  co_return co_await runner_.step(store, checks, *m);
}

std::vector<StepResult::Kind> drive(TestDatabase& db, const bbm::WorkRegistry& registry, std::int64_t id,
                                    bbm::RunnerOptions options, int max_steps, bbm::BatchSizes* sizes) {
  metrics::Metrics metrics;
  return run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::vector<StepResult::Kind>> {
    auto conn = co_await db::Connection::connect(ex, db::conn_params(db.config(), "bbmd-test"));
    TestRunner runner(*conn, registry, metrics, options, sizes);
    std::vector<StepResult::Kind> kinds;
    for (int i = 0; i < max_steps; ++i) {
      const auto step = co_await runner.step(id);
      kinds.push_back(step.kind);
      if (step.kind == StepResult::Kind::migration_finished || step.kind == StepResult::Kind::migration_failed ||
          step.kind == StepResult::Kind::held || step.kind == StepResult::Kind::gone) {
        break;
      }
    }
    co_return kinds;
  });
}

std::int64_t queue_over_t(TestDatabase& db, int rows, int batch_size, const std::string& function) {
  apply_bbmd_schema(db);
  make_table(db, rows);
  MigrationRow row;
  if (function != row.job_signature_name) {
    row.job_signature_name = function;
    row.job_arguments = "{}";
  }
  row.max_value = rows;
  row.batch_size = batch_size;
  return queue_migration(db, row);
}

asio::awaitable<Validated> validated(db::Connection& conn, std::int64_t id, const bbm::WorkRegistry& registry) {
  const auto m = co_await bbm::PgStore(conn).find(id);
  if (!m) throw std::runtime_error("migration " + std::to_string(id) + " not found");
  Validated out{*m, {}};
  bbm::Validator validator(registry);
  const auto verdict = co_await validator.validate(conn, out.m, out.target);
  if (!verdict.runnable()) throw std::runtime_error("migration " + std::to_string(id) + " not runnable: " + verdict.reason);
  co_return out;
}

bbm::WorkRegistry registry_with(const std::string& name, const std::string& sql) {
  bbm::WorkRegistry registry;
  registry.add(bbm::make_sql_function(name, sql));
  return registry;
}

}  // namespace bbmd::test

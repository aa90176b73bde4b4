#pragma once
// Drives bbm::Runner in-process against a test database, one step at a time.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bbm/check/validator.hpp"
#include "bbm/run/batch_sizer.hpp"
#include "bbm/run/runner.hpp"
#include "bbm/work/registry.hpp"
#include "support/test_db.hpp"

namespace bbmd::throttle {
class Throttle;
}

namespace bbmd::test {

// A runner on one connection, with the validator (and optionally the throttle) a worker gives it.
class TestRunner {
 public:
  TestRunner(db::Connection& conn, const bbm::WorkRegistry& registry, metrics::Metrics& metrics,
             bbm::RunnerOptions options, bbm::BatchSizes* sizes = nullptr, throttle::Throttle* throttle = nullptr,
             std::shared_ptr<db::Pool> lookahead_pool = nullptr);
  // Steps migration `id` as listed now; throws std::runtime_error if it is gone.
  boost::asio::awaitable<bbm::StepResult> step(std::int64_t id);

 private:
  db::Connection& conn_;
  bbm::Validator validator_;
  throttle::Throttle* throttle_;
  bbm::Runner runner_;
};

// Fast, generous options: 30 s leases, 10 s statement timeout, 60 s holds, one job per step.
bbm::RunnerOptions runner_options(int max_attempts = 3);

// Steps migration `id` until a step ends it (finished, failed, held, gone) or `max_steps`
// pass; returns every step's kind in order.
std::vector<bbm::StepResult::Kind> drive(TestDatabase& db, const bbm::WorkRegistry& registry, std::int64_t id,
                                         bbm::RunnerOptions options = runner_options(), int max_steps = 50,
                                         bbm::BatchSizes* sizes = nullptr);

// bbmd's schema, t with ids 1..rows, and a migration over all of it in batches of `batch_size`
// running `function` (copy_column b = a, or a SQL work function that takes no arguments);
// returns its id.
std::int64_t queue_over_t(TestDatabase& db, int rows, int batch_size, const std::string& function = "copy_column");

struct Validated {
  bbm::Bbm m;
  bbm::Target target;
};
// Bbm `id` as listed, and its target as the validator resolves it. Throws
// std::runtime_error if the migration is missing or its verdict is not runnable.
boost::asio::awaitable<Validated> validated(db::Connection& conn, std::int64_t id, const bbm::WorkRegistry& registry);

// The built-ins plus one SQL work function.
bbm::WorkRegistry registry_with(const std::string& name, const std::string& sql);

}  // namespace bbmd::test

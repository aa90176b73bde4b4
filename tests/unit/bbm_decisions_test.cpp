// The runner's and the worker's decisions without a database: the Runner against a scripted
// store and checks (lease busy, taken over, throttled, held, failed with attempts left and with
// none, statement timeout, shutdown mid-batch, staying from job to job), next_step() and Backoff.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "bbm/run/backoff.hpp"
#include "bbm/run/next_step.hpp"
#include "bbm/run/runner.hpp"
#include "db/error.hpp"
#include "metrics/metrics.hpp"
#include "support/async.hpp"
#include "support/fake_store.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using bbmd::bbm::FailureCode;
using bbmd::bbm::LeaseOutcome;
using bbmd::bbm::PassOutcome;
using bbmd::bbm::StepResult;
using bbmd::test::FakeChecks;
using bbmd::test::FakeStore;
using bbmd::test::committed;
using bbmd::test::job_of;
using bbmd::test::leased;
using Calls = std::vector<std::string>;

namespace {

bbmd::bbm::Bbm migration() {
  bbmd::bbm::Bbm m;
  m.id = 1;
  m.name = "20260101000000_copy";
  m.status = 4;
  m.min_value = 1;
  m.max_value = 1000;
  m.batch_size = 100;
  m.total_tuple_count = 1000;
  return m;
}

bbmd::bbm::RunnerOptions options(std::chrono::milliseconds stay_for = 0ms) {
  bbmd::bbm::RunnerOptions o;
  o.lease.max_attempts = 3;
  o.throttle_initial = 250ms;
  o.throttle_max = 10s;
  o.hold_interval = 60s;
  o.stay_for = stay_for;
  return o;
}

// One harness per test: the runner, its fakes, and the metrics its reporter counts into.
struct Harness {
  explicit Harness(bbmd::bbm::RunnerOptions o = options())
      : runner(metrics, bbmd::log::Logger("test"), std::move(o)) {}

  StepResult step(const bbmd::bbm::Bbm& m = migration()) {
    return bbmd::test::run_async([&](asio::any_io_executor) { return runner.step(store, checks, m); });
  }
  [[nodiscard]] bool scraped(const std::string& line) const { return metrics.scrape().find(line) != std::string::npos; }

  bbmd::metrics::Metrics metrics;
  FakeStore store;
  FakeChecks checks;
  bbmd::bbm::Runner runner;
};

bbmd::db::Error error(bbmd::db::ErrorKind kind, const char* message) { return bbmd::db::Error(kind, "", message); }

}  // namespace

TEST_CASE("runner: a busy lease runs nothing and counts as idle", "[unit][bbm][runner]") {
  Harness h;
  h.store.leases.push_back(bbmd::test::lease_of(LeaseOutcome::Kind::busy));
  const auto r = h.step();
  CHECK(r.kind == StepResult::Kind::busy);
  CHECK(h.store.calls == Calls{"lease 100"});
  CHECK(bbmd::bbm::next_step(r, {}).outcome == PassOutcome::idle);
}

TEST_CASE("runner: a lease busy because the whole fleet is at its cap ends the worker's pass", "[unit][bbm][runner]") {
  Harness h;
  auto full = bbmd::test::lease_of(LeaseOutcome::Kind::busy);
  full.fleet_full = true;
  h.store.leases = {bbmd::test::lease_of(LeaseOutcome::Kind::busy), full};
  const auto table_busy = h.step();
  const auto fleet_busy = h.step();
  CHECK(h.store.calls == Calls{"lease 100", "lease 100"});
  CHECK(fleet_busy.kind == StepResult::Kind::busy);
  CHECK(bbmd::bbm::next_step(table_busy, {}).outcome == PassOutcome::idle);  // another migration may lease
  CHECK(bbmd::bbm::next_step(fleet_busy, {}).outcome == PassOutcome::fleet_full);  // none can
}

// The server stamps a job's start before the lease answers, so counted from the answer the
// interval separates the starts the server records, however long each lease took.
TEST_CASE("runner: the job interval counts from the lease's answer", "[unit][bbm][runner][jobinterval]") {
  Harness h;
  h.store.lease_takes = 40ms;
  h.store.leases.push_back(leased(job_of(1, 1, 100)));
  const auto before = std::chrono::steady_clock::now();
  const auto r = h.step();
  REQUIRE(r.job_started);
  CHECK(*r.job_started - before >= 40ms);
}

TEST_CASE("runner: a lease taken over from a vanished worker runs and is counted", "[unit][bbm][runner]") {
  Harness h;
  auto job = job_of(7, 1, 100, 2);
  job.takeover = true;
  h.store.leases.push_back(leased(job));
  h.store.batches.push_back(committed(100));
  const auto r = h.step();
  CHECK(r.kind == StepResult::Kind::job_finished);
  REQUIRE(r.job);
  CHECK(r.job->job.takeover);
  CHECK(r.job->outcome == "finished");
  CHECK(h.store.calls == Calls{"lease 100", "batch 7"});
  CHECK(h.scraped("registry_bbm_lease_takeovers_total{migration_id=\"1\",migration_name=\"20260101000000_copy\"} 1"));
}

TEST_CASE("runner: a throttle stop holds the migration, doubling while it lasts, and a paced stop holds exactly its pause",
          "[unit][bbm][runner][throttle]") {
  Harness h;
  bbmd::throttle::Stop lag{"replication_lag", "standby lags 12s", 0ms};
  bbmd::throttle::Stop wal{"wal_rate", "over the ceiling", 1500ms};
  h.checks.stops = {lag, lag, wal, std::nullopt};
  h.store.leases.push_back(leased(job_of(3, 1, 100)));

  const auto first = h.step();
  const auto second = h.step();
  const auto paced = h.step();
  CHECK(first.kind == StepResult::Kind::held);
  CHECK(first.reason == "replication_lag: standby lags 12s");
  CHECK(first.retry_after == 0ms);
  CHECK(paced.retry_after == 1500ms);
  CHECK(bbmd::bbm::next_step(paced, {}).pause == 1500ms);
  CHECK(bbmd::bbm::next_step(second, {}).pause == std::nullopt);
  // The signal gone, the migration runs again (its hold was only a timestamp: nothing to clear here).
  CHECK(h.step().kind == StepResult::Kind::job_finished);
  CHECK(h.store.calls == Calls{"hold throttled 250ms", "hold throttled 500ms", "hold throttled 1500ms", "lease 100",
                               "batch 3"});
}

TEST_CASE("runner: validation holds or fails the migration without leasing", "[unit][bbm][runner]") {
  Harness h;
  h.checks.verdicts = {bbmd::bbm::Verdict::held(bbmd::bbm::kHoldMissingIndex, "create the index"),
                       bbmd::bbm::Verdict::failure(FailureCode::invalid_bbm_column, "no column c")};
  const auto held = h.step();
  CHECK(held.kind == StepResult::Kind::held);
  CHECK(held.verdict_is_news);
  const auto failed = h.step();
  CHECK(failed.kind == StepResult::Kind::migration_failed);
  CHECK(failed.reason == "no column c");
  CHECK(h.checks.forgotten == 1);
  CHECK(h.store.calls == Calls{"hold missing_index 60000ms", "fail code 2"});
  CHECK(bbmd::bbm::next_step(held, {}).outcome == PassOutcome::idle);
  CHECK(bbmd::bbm::next_step(failed, {}).outcome == PassOutcome::worked);
}

TEST_CASE("runner: a failing job is recorded with its code and counts as an error, and with no attempts left the lease "
          "fails the migration", "[unit][bbm][runner][retry]") {
  Harness h;
  h.store.leases = {leased(job_of(5, 1, 100)), bbmd::test::lease_of(LeaseOutcome::Kind::failed)};
  h.store.leases.back().exhausted_job_id = 5;
  h.store.batches.push_back(error(bbmd::db::ErrorKind::data_error, "ERROR:  division by zero"));

  const auto failed_job = h.step();
  CHECK(failed_job.kind == StepResult::Kind::job_failed);
  CHECK(failed_job.reason == "ERROR:  division by zero");
  CHECK(failed_job.job->code == FailureCode::work_function_error);
  CHECK(bbmd::bbm::next_step(failed_job, {}).outcome == PassOutcome::error);

  const auto out_of_attempts = h.step();
  CHECK(out_of_attempts.kind == StepResult::Kind::migration_failed);
  CHECK(out_of_attempts.reason == "job 5 failed after its last attempt");
  CHECK(h.store.calls == Calls{"lease 100", "batch 5", "record failure 5 code 11", "lease 100"});
}

TEST_CASE("runner: a job the server could not run for want of disk space is recorded as server_out_of_resources "
          "with the cause named, and backs off as an error", "[unit][bbm][runner][resources]") {
  Harness h;
  h.store.leases = {leased(job_of(6, 1, 100))};
  const std::string message = "ERROR:  could not extend file \"base/5/16384\": No space left on device";
  h.store.batches.push_back(bbmd::db::Error(bbmd::db::ErrorKind::other, "53100",
                                            bbmd::db::describe_server_error("53100", message)));

  const auto failed_job = h.step();
  CHECK(failed_job.kind == StepResult::Kind::job_failed);
  CHECK(failed_job.reason == "the database server is out of disk space (SQLSTATE 53100): " + message);
  CHECK(failed_job.job->code == FailureCode::server_out_of_resources);
  CHECK(bbmd::bbm::next_step(failed_job, {}).outcome == PassOutcome::error);
  CHECK(h.store.calls == Calls{"lease 100", "batch 6", "record failure 6 code 12"});
}

TEST_CASE("runner: a statement timeout is recorded as job_timeout, then shrinks or splits the job and later batches",
          "[unit][bbm][runner][timeout]") {
  bbmd::bbm::BatchSizes sizes(true, 1.0);
  Harness h;
  bbmd::bbm::Runner adaptive(h.metrics, bbmd::log::Logger("test"), options(), &sizes);
  h.store.leases.push_back(leased(job_of(9, 1, 100)));
  h.store.batches.push_back(error(bbmd::db::ErrorKind::query_canceled, "ERROR:  canceling statement due to statement timeout"));
  const auto m = migration();
  const auto r = bbmd::test::run_async([&](asio::any_io_executor) { return adaptive.step(h.store, h.checks, m); });
  CHECK(r.kind == StepResult::Kind::job_failed);
  CHECK(r.job->code == FailureCode::job_timeout);
  CHECK(r.job->timeout_action == "split");
  CHECK(h.store.calls == Calls{"lease 100", "batch 9", "record failure 9 code 8", "shrink or split 9"});
  CHECK(sizes.next(m) < 100);  // the next lease asks for fewer rows
}

TEST_CASE("runner: at shutdown a cancelled batch gives its lease back instead of counting an attempt",
          "[unit][bbm][runner][shutdown]") {
  Harness h;
  h.runner.set_stopping(true);
  h.store.leases.push_back(leased(job_of(4, 1, 100)));
  h.store.batches.push_back(error(bbmd::db::ErrorKind::query_canceled, "ERROR:  canceling statement due to user request"));
  const auto r = h.step();
  CHECK(r.kind == StepResult::Kind::job_abandoned);
  CHECK(r.job->outcome == "canceled");
  CHECK(h.store.calls == Calls{"lease 100", "batch 4", "release 4"});
}

TEST_CASE("runner: a connection lost mid-batch records nothing and ends the pass as an error",
          "[unit][bbm][runner]") {
  Harness h;
  h.store.leases.push_back(leased(job_of(4, 1, 100)));
  h.store.batches.push_back(error(bbmd::db::ErrorKind::connection_lost, "server closed the connection"));
  const auto r = h.step();
  CHECK(r.kind == StepResult::Kind::connection_lost);
  CHECK(h.store.calls == Calls{"lease 100", "batch 4"});
  CHECK(bbmd::bbm::next_step(r, {}).outcome == PassOutcome::error);
}

TEST_CASE("runner: a step stays from job to job on the jobs each commit leases, and the throttle can stop it between "
          "jobs, releasing the job leased ahead", "[unit][bbm][runner][stay]") {
  Harness h(options(60s));
  h.store.leases.push_back(leased(job_of(1, 1, 100)));
  h.store.batches = {committed(100, job_of(2, 101, 200)), committed(100, job_of(3, 201, 300))};
  h.checks.stops = {std::nullopt, std::nullopt, bbmd::throttle::Stop{"lock_waiters", "2 sessions wait", 0ms}};
  const auto r = h.step();
  CHECK(r.kind == StepResult::Kind::held);
  CHECK(h.store.calls == Calls{"lease 100", "batch 1 chaining", "batch 2 chaining", "hold throttled 250ms",
                               "release 3"});
}

TEST_CASE("runner: without a stay window, or with a job interval, nothing is leased ahead", "[unit][bbm][runner][stay]") {
  for (const bool interval : {false, true}) {
    auto o = options(interval ? 60s : 0ms);
    if (interval) o.job_interval = 1s;
    Harness h(o);
    h.store.leases.push_back(leased(job_of(1, 1, 100)));
    CHECK(h.step().kind == StepResult::Kind::job_finished);
    CHECK(h.store.calls == Calls{"lease 100", "batch 1"});
  }
}

TEST_CASE("runner: the last range leases nothing ahead (its end may be the largest bigint)", "[unit][bbm][runner][stay]") {
  Harness h(options(60s));
  auto m = migration();
  m.max_value = INT64_MAX;
  h.store.leases.push_back(leased(job_of(1, INT64_MAX - 99, INT64_MAX)));
  const auto r = bbmd::test::run_async([&](asio::any_io_executor) { return h.runner.step(h.store, h.checks, m); });
  CHECK(r.kind == StepResult::Kind::job_finished);
  CHECK(h.store.calls == Calls{"lease 100", "batch 1"});
}

TEST_CASE("runner: a migration's first job takes its tuple estimate and a hold from an earlier step is cleared once",
          "[unit][bbm][runner]") {
  Harness h(options(60s));
  auto m = migration();
  m.total_tuple_count.reset();
  m.hold_code = "throttled";
  auto first = leased(job_of(1, 1, 100));
  first.first_job = true;
  h.store.leases.push_back(first);
  h.store.batches = {committed(100, job_of(2, 101, 200))};
  const auto r = bbmd::test::run_async([&](asio::any_io_executor) { return h.runner.step(h.store, h.checks, m); });
  CHECK(r.kind == StepResult::Kind::job_finished);
  CHECK(h.store.calls == Calls{"clear hold", "lease 100", "estimate", "batch 1 chaining", "batch 2 chaining"});
}

TEST_CASE("next_step: what each step counts as, and when a step stays", "[unit][bbm][decide]") {
  using Kind = StepResult::Kind;
  const std::vector<std::pair<Kind, PassOutcome>> expected{
      {Kind::job_finished, PassOutcome::worked},      {Kind::job_failed, PassOutcome::error},
      {Kind::job_abandoned, PassOutcome::worked},     {Kind::connection_lost, PassOutcome::error},
      {Kind::migration_finished, PassOutcome::worked}, {Kind::migration_failed, PassOutcome::worked},
      {Kind::held, PassOutcome::idle},                {Kind::busy, PassOutcome::idle},
      {Kind::gone, PassOutcome::idle}};
  for (const auto& [kind, outcome] : expected) {
    auto r = StepResult::of(kind);
    r.chained = job_of(2, 101, 200);
    CHECK(bbmd::bbm::next_step(r, {}).outcome == outcome);
    CHECK(bbmd::bbm::next_step(r, {}).stay == (kind == Kind::job_finished));
  }
  auto finished = StepResult::of(Kind::job_finished);
  CHECK_FALSE(bbmd::bbm::next_step(finished, {true, false, false}).stay);  // nothing leased ahead
  finished.chained = job_of(2, 101, 200);
  CHECK(bbmd::bbm::next_step(finished, {false, false, false}).stay);  // leased ahead: run it, window or not
  CHECK_FALSE(bbmd::bbm::next_step(finished, {true, true, false}).stay);  // stopping
  CHECK(bbmd::bbm::may_chain({true, false, false}));
  CHECK_FALSE(bbmd::bbm::may_chain({false, false, false}));
  CHECK_FALSE(bbmd::bbm::may_chain({true, true, false}));
  CHECK_FALSE(bbmd::bbm::may_chain({true, false, true}));
}

TEST_CASE("backoff: none after work but the job interval's rest, idle and errors double with jitter up to the cap, "
          "a full fleet waits the cap",
          "[unit][bbm][backoff]") {
  bbmd::bbm::Backoff backoff({.job_interval = 300ms, .initial = 250ms, .max = 2s, .multiplier = 2.0, .jitter = 0.2});
  CHECK(backoff.next(PassOutcome::worked, 100ms, 0.5) == 200ms);
  CHECK(backoff.next(PassOutcome::worked, 400ms, 0.5) == 0ms);
  CHECK(backoff.next(PassOutcome::idle, 0ms, 0.5) == 250ms);
  CHECK(backoff.next(PassOutcome::error, 0ms, 0.5) == 500ms);
  CHECK(backoff.next(PassOutcome::idle, 0ms, 0.0) == 800ms);  // 1000 ms, 20% below
  CHECK(backoff.next(PassOutcome::idle, 0ms, 0.5) == 2s);     // 2000 ms: the cap
  CHECK(backoff.next(PassOutcome::idle, 0ms, 0.999) == 2s);   // jitter never passes the cap
  CHECK(backoff.streak() == 5);
  CHECK(backoff.next(PassOutcome::worked, 0ms, 0.5) == 300ms);
  CHECK(backoff.streak() == 0);
  CHECK(backoff.next(PassOutcome::idle, 0ms, 0.5) == 250ms);  // the streak starts over
  CHECK(backoff.next(PassOutcome::fleet_full, 0ms, 0.5) == 2s);     // at the fleet's cap: the longest
  CHECK(backoff.next(PassOutcome::fleet_full, 0ms, 0.0) == 1600ms);  // with its jitter
  CHECK(backoff.streak() == 3);
  CHECK(bbmd::bbm::startup_jitter(10s, 0.25) == 2500ms);
}

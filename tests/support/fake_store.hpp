#pragma once
// A scripted Store and Checks, for testing the runner's decisions without a database: each call
// takes the next scripted answer and is written to a call log the test compares.
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bbm/run/checks.hpp"
#include "bbm/store/store.hpp"
#include "db/error.hpp"

namespace bbmd::test {

class FakeStore final : public bbm::Store {
 public:
  // What one run_batch() does: commit with this outcome, or throw this error.
  using BatchScript = std::variant<bbm::BatchOutcome, db::Error>;

  std::deque<bbm::LeaseOutcome> leases;  // lease() answers in turn; none left: gone
  std::deque<BatchScript> batches;       // run_batch() answers in turn; none left: a plain commit
  std::vector<std::string> calls;        // e.g. "lease", "batch 7 chained", "release 8", "hold throttled 250ms"
  std::chrono::milliseconds lease_takes{0};  // how long each lease() takes to answer

  boost::asio::awaitable<std::vector<bbm::Bbm>> runnable(const std::vector<std::string>&,
                                                         const bbm::LeaseOptions&) override;
  boost::asio::awaitable<std::optional<bbm::Bbm>> find(std::int64_t) override;
  boost::asio::awaitable<bool> hold(const bbm::Bbm& m, const bbm::Verdict& verdict,
                                    std::chrono::milliseconds interval) override;
  boost::asio::awaitable<void> clear_hold(const bbm::Bbm&) override;
  boost::asio::awaitable<bool> fail(const bbm::Bbm&, const bbm::Verdict& verdict) override;
  boost::asio::awaitable<std::int64_t> estimate_tuples(const bbm::Bbm&, const bbm::Target&) override;
  boost::asio::awaitable<bbm::LeaseOutcome> lease(const bbm::Bbm&, const bbm::Target&, std::int64_t batch_size,
                                                  const bbm::LeaseOptions&) override;
  boost::asio::awaitable<bbm::BatchOutcome> run_batch(const bbm::Bbm&, const bbm::Target&, const bbm::Job& job,
                                                      const bbm::BatchOptions&, const bbm::ChainRequest* chain) override;
  boost::asio::awaitable<void> record_failure(const bbm::Job& job, bbm::FailureCode code, const std::string&) override;
  boost::asio::awaitable<std::string> shrink_or_split(const bbm::Bbm&, const bbm::Target&, const bbm::Job& job,
                                                      int) override;
  boost::asio::awaitable<void> release(const bbm::Job& job) override;
};

class FakeChecks final : public bbm::Checks {
 public:
  std::deque<bbm::Verdict> verdicts;                  // validate() answers in turn; none left: run
  std::deque<std::optional<throttle::Stop>> stops;    // throttle() answers in turn; none left: go
  int forgotten = 0;

  boost::asio::awaitable<bbm::Verdict> validate(const bbm::Bbm&, bbm::Target& target) override;
  void forget(std::int64_t) override { ++forgotten; }
  boost::asio::awaitable<std::optional<throttle::Stop>> throttle(const throttle::Context&) override;
};

// A leased job and a lease outcome that hands it out.
bbm::Job job_of(std::int64_t id, std::int64_t min, std::int64_t max, std::int64_t attempts = 1);
bbm::LeaseOutcome leased(const bbm::Job& job);
bbm::LeaseOutcome lease_of(bbm::LeaseOutcome::Kind kind);
// A commit of `rows` rows; with `chained`, the job its commit leased.
bbm::BatchOutcome committed(std::int64_t rows, std::optional<bbm::Job> chained = std::nullopt);

}  // namespace bbmd::test

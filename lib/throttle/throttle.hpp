#pragma once
// The set of enabled indicators, asked in order before each batch. The first that says stop
// wins. An indicator that errors is logged and counted and treated as "go": a broken check must
// not stall or crash the worker.
//
// Call check() outside a transaction, before the batch's BEGIN: the SQL check runs as its own
// implicit transaction. Cluster-wide answers are reused for throttle.checkinterval, so a busy
// worker pays at most one round trip per indicator per interval (the flag file and lock-waiter
// checks cost none). On SIGHUP, rebuild with from_config: it is cheap, and only the WAL rate's
// first sample is lost.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "config/config.hpp"
#include "throttle/indicator.hpp"

namespace bbmd::metrics {
class Metrics;
}

namespace bbmd::throttle {

class Throttle {
 public:
  // How long a verdict counts in registry_bbm_throttled without a newer one: a held migration is
  // checked again within its hold (at most backoff.max) plus one idle poll (backoff.max plus
  // jitter), so three times backoff.max (10s by default) bridges the gap, while a verdict on a
  // migration that was paused, or that another process checks now, stops counting soon after.
  static constexpr std::chrono::milliseconds kDefaultVerdictLifetime{30000};

  Throttle(std::vector<std::unique_ptr<Indicator>> indicators, metrics::Metrics& metrics,
           std::chrono::milliseconds verdict_lifetime = kDefaultVerdictLifetime);
  // Builds the indicators the config enables (factory.cpp says which, in what order).
  static Throttle from_config(const config::Config& cfg, metrics::Metrics& metrics);
  // The first stop, or nullopt to go ahead. Never throws for an indicator's failure; only
  // cancellation (shutdown) propagates. Each verdict goes to Metrics::throttle_verdict.
  boost::asio::awaitable<std::optional<Stop>> check(db::Connection& conn, const Context& ctx);
  [[nodiscard]] bool empty() const noexcept { return indicators_->empty(); }

 private:
  // Shared so that a check in progress keeps the indicators it is walking alive when SIGHUP
  // assigns a rebuilt Throttle in the middle of it.
  std::shared_ptr<std::vector<std::unique_ptr<Indicator>>> indicators_;
  metrics::Metrics* metrics_;  // a pointer so that SIGHUP can assign a rebuilt Throttle
  std::chrono::milliseconds verdict_lifetime_;
};

}  // namespace bbmd::throttle

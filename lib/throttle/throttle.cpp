// Throttle::check: asks the indicators in order; the first stop wins, a failing one counts as go.
#include "throttle/throttle.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <exception>
#include <utility>

#include "db/connection.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"

namespace bbmd::throttle {
namespace {

const log::Logger& logger() {
  static const log::Logger instance{log::kWorkerComponent};
  return instance;
}

std::string what(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace

Throttle::Throttle(std::vector<std::unique_ptr<Indicator>> indicators, metrics::Metrics& metrics,
                   std::chrono::milliseconds verdict_lifetime)
    : indicators_(std::make_shared<std::vector<std::unique_ptr<Indicator>>>(std::move(indicators))),
      metrics_(&metrics),
      verdict_lifetime_(verdict_lifetime) {}

boost::asio::awaitable<std::optional<Stop>> Throttle::check(db::Connection& conn, const Context& ctx) {
  const auto indicators = indicators_;  // outlives a reload that replaces indicators_
  for (auto& indicator : *indicators) {
    std::optional<Stop> stop;
    std::exception_ptr failure;
    try {
      stop = co_await indicator->check(conn, ctx);
    } catch (const boost::system::system_error& e) {
      // Shutdown cancels the worker's coroutine: that must reach the worker, not be counted.
      if (e.code() == boost::asio::error::operation_aborted) throw;
      failure = std::current_exception();
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) {
      metrics_->indicator_error(indicator->name());
      logger().warn("throttle indicator failed; treating it as go",
                    {{log::kReason, std::string(indicator->name())}, {log::kError, what(failure)}, {log::kBbmId, ctx.migration_id}});
      // Every further indicator would fail the same way; the batch's own first query reports
      // the lost connection through the worker's usual path. No verdict: nothing was learnt.
      if (conn.broken()) co_return std::nullopt;
      continue;
    }
    if (stop) {
      metrics_->throttle_verdict(ctx.migration_id, stop->reason, verdict_lifetime_);
      co_return stop;
    }
  }
  metrics_->throttle_verdict(ctx.migration_id, {}, verdict_lifetime_);
  co_return std::nullopt;
}

}  // namespace bbmd::throttle

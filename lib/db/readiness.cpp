// The /readyz check (see readiness.hpp).
#include "db/readiness.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bbmd::db {

Readiness::Readiness(boost::asio::any_io_executor ex, ConnParams params, std::chrono::milliseconds timeout,
                     Probe probe)
    : ex_(std::move(ex)), params_(std::move(params)), timeout_(timeout), probe_(std::move(probe)) {}

Readiness::~Readiness() = default;

boost::asio::awaitable<std::string> Readiness::check() {
  using namespace boost::asio::experimental::awaitable_operators;
  if (in_flight_) co_return last_;
  in_flight_ = true;
  boost::asio::steady_timer deadline(ex_, timeout_);
  auto result = co_await (check_now() || deadline.async_wait(boost::asio::use_awaitable));
  if (result.index() == 0) {
    last_ = std::get<0>(result);
  } else {
    conn_.reset();  // its state is unknown after an abandoned query
    last_ = "database did not answer within " + std::to_string(timeout_.count()) + "ms";
  }
  in_flight_ = false;
  co_return last_;
}

boost::asio::awaitable<std::string> Readiness::check_now() {
  std::string reason;
  try {
    if (!conn_ || conn_->broken()) conn_ = co_await Connection::connect(ex_, params_);
    reason = co_await probe_(*conn_);
  } catch (const std::exception& e) {
    conn_.reset();
    reason = std::string("database unreachable: ") + e.what();
  }
  co_return reason;
}

}  // namespace bbmd::db

// The range lookahead on a spare connection (see range_lookahead.hpp).
#include "bbm/store/range_lookahead.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include "bbm/store/keyset.hpp"
#include "db/connection.hpp"
#include "db/pool.hpp"

namespace bbmd::bbm {

struct RangeLookahead::Lookup {
  std::int64_t from = 0;
  std::int64_t to = 0;
  std::int64_t batch_size = 0;
  bool running = true;
  std::optional<Found> found;
  boost::asio::cancellation_signal cancel;  // here, not in RangeLookahead: it must outlive the lookup
};

namespace {

// Transaction-local, so they hold for the lookup that follows in the same implicit transaction.
constexpr const char* kTimeouts =
    "SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)";

// Detached: owns copies of everything it uses, so the runner may move on or go away meanwhile.
boost::asio::awaitable<void> look_up(std::shared_ptr<db::Pool> pool, std::string sql, db::Params timeouts,
                                     std::shared_ptr<RangeLookahead::Lookup> lookup) {
  try {
    // co_spawn runs this at once, inside the runner's call: posted instead, the lookup is sent
    // once the batch's first round trip is on its way, never ahead of it.
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    auto conn = co_await pool->acquire_if_free();
    if (conn) {
      std::vector<db::Statement> statements;
      statements.push_back(db::Statement{kTimeouts, std::move(timeouts)});
      statements.push_back(db::Statement{sql, db::Params{lookup->from, lookup->to, lookup->batch_size}});
      const auto start = std::chrono::steady_clock::now();
      const auto results = co_await conn->pipeline("bbm_batch_range_lookahead", statements);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const auto last = results.back().opt_int(0, 0);
      if (last) lookup->found = RangeLookahead::Found{KeyRange{lookup->from, *last}, seconds};
    }
  } catch (const std::exception&) {
    // Only a hint: without it the lease scans the range itself. A broken connection is dropped
    // by the pool, and the worker's own queries report the server's state.
  }
  lookup->running = false;
}

}  // namespace

RangeLookahead::RangeLookahead(std::shared_ptr<db::Pool> pool, std::chrono::milliseconds statement_timeout,
                             std::chrono::milliseconds lock_timeout)
    : pool_(std::move(pool)), timeouts_{statement_timeout, lock_timeout} {}

void RangeLookahead::start(const boost::asio::any_io_executor& ex, const Target& target, std::int64_t from,
                          std::int64_t to, std::int64_t batch_size) {
  if (from > to || (lookup_ && lookup_->running)) return;
  lookup_ = std::make_shared<Lookup>();
  lookup_->from = from;
  lookup_->to = to;
  lookup_->batch_size = batch_size;
  boost::asio::co_spawn(ex, look_up(pool_, range_end_sql(target), timeouts_, lookup_),
                        boost::asio::bind_cancellation_slot(lookup_->cancel.slot(), boost::asio::detached));
}

void RangeLookahead::stop() {
  if (lookup_ && lookup_->running) lookup_->cancel.emit(boost::asio::cancellation_type::terminal);
}

std::optional<RangeLookahead::Found> RangeLookahead::ready(std::int64_t from, std::int64_t batch_size) const {
  if (!lookup_ || lookup_->running || lookup_->from != from || lookup_->batch_size != batch_size) return std::nullopt;
  return lookup_->found;
}

}  // namespace bbmd::bbm

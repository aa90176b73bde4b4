// The range lookahead on a spare connection (see range_prefetch.hpp).
#include "bbm/range_prefetch.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <chrono>
#include <exception>
#include <string>

#include "db/pool.hpp"

namespace bbmd::bbm {

struct RangePrefetch::Lookup {
  std::int64_t from = 0;
  std::int64_t to = 0;
  std::int64_t batch_size = 0;
  bool running = true;
  std::optional<Found> found;
  boost::asio::cancellation_signal cancel;  // here, not in RangePrefetch: it must outlive the lookup
};

namespace {

// Detached: owns copies of everything it uses, so the runner may move on or go away meanwhile.
boost::asio::awaitable<void> look_up(std::shared_ptr<db::Pool> pool, std::string sql,
                                     std::shared_ptr<RangePrefetch::Lookup> lookup) {
  try {
    auto conn = co_await pool->acquire_if_free();
    if (conn) {
      const auto start = std::chrono::steady_clock::now();
      auto r = co_await conn->query("bbm_batch_range_lookahead", sql, lookup->from, lookup->to, lookup->batch_size);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (const auto last = r.opt_int(0, 0)) lookup->found = RangePrefetch::Found{KeyRange{lookup->from, *last}, seconds};
    }
  } catch (const std::exception&) {
    // Only a hint: without it the lease scans the range itself. A broken connection is dropped
    // by the pool, and the worker's own queries report the server's state.
  }
  lookup->running = false;
}

}  // namespace

RangePrefetch::RangePrefetch(std::shared_ptr<db::Pool> pool) : pool_(std::move(pool)) {}

void RangePrefetch::start(const boost::asio::any_io_executor& ex, const Target& target, std::int64_t from,
                          std::int64_t to, std::int64_t batch_size) {
  if (from > to || (lookup_ && lookup_->running)) return;
  lookup_ = std::make_shared<Lookup>();
  lookup_->from = from;
  lookup_->to = to;
  lookup_->batch_size = batch_size;
  boost::asio::co_spawn(ex, look_up(pool_, range_end_sql(target), lookup_),
                        boost::asio::bind_cancellation_slot(lookup_->cancel.slot(), boost::asio::detached));
}

void RangePrefetch::stop() {
  if (lookup_ && lookup_->running) lookup_->cancel.emit(boost::asio::cancellation_type::terminal);
}

std::optional<RangePrefetch::Found> RangePrefetch::ready(std::int64_t from, std::int64_t batch_size) const {
  if (!lookup_ || lookup_->running || lookup_->from != from || lookup_->batch_size != batch_size) return std::nullopt;
  return lookup_->found;
}

}  // namespace bbmd::bbm

// Connection pool: bounded slots, FIFO hand-off to waiters, reconnect backoff after failures.
// Single-threaded by design: every member runs on the pool's executor, so no locks.
#include "db/pool.hpp"

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <deque>

namespace bbmd::db {

namespace {

using Clock = std::chrono::steady_clock;

// One queued acquire(). The releaser fills in what it hands over and cancels the timer,
// which never expires on its own; the waiter then reads why it woke.
struct Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : wake(ex, Clock::time_point::max()) {}
  asio::steady_timer wake;
  std::unique_ptr<Connection> conn;  // an idle connection handed over
  bool slot = false;                 // or a free slot: the waiter connects itself
  bool closed = false;               // or the pool closed
  bool woken() const { return conn || slot || closed; }
};

[[noreturn]] void throw_closed() { throw Error(ErrorKind::other, "", "connection pool is closed"); }

}  // namespace

struct Pool::Impl {
  asio::any_io_executor ex;
  ConnParams params;
  Options options;
  QueryObserver observer;

  std::deque<std::unique_ptr<Connection>> idle;
  std::deque<std::shared_ptr<Waiter>> waiters;
  std::size_t open = 0;    // slots taken: idle + in use + connecting
  std::size_t in_use = 0;
  bool closed = false;
  std::uint64_t reconnects = 0;
  std::uint64_t connect_failures = 0;
  bool lost_since_connect = false;  // a connection broke or a connect failed since the last success
  std::chrono::milliseconds backoff{0};
  Clock::time_point next_connect_at{};

  std::shared_ptr<Waiter> pop_waiter() {
    auto w = std::move(waiters.front());
    waiters.pop_front();
    return w;
  }

  // A slot became free: the oldest waiter gets it, otherwise it is given up.
  void free_slot() {
    if (!closed && !waiters.empty()) {
      auto w = pop_waiter();
      w->slot = true;
      w->wake.cancel();
      return;
    }
    --open;
  }

  void note_connect_failure() {
    ++connect_failures;
    lost_since_connect = true;
    backoff = backoff.count() == 0 ? options.reconnect_initial : std::min(backoff * 2, options.reconnect_max);
    next_connect_at = Clock::now() + backoff;
  }

  void note_connect_success() {
    if (lost_since_connect) ++reconnects;
    lost_since_connect = false;
    backoff = std::chrono::milliseconds(0);
  }

  // Fills a slot already counted in `open`. On failure the slot is passed on or freed.
  asio::awaitable<std::unique_ptr<Connection>> connect_slot() {
    std::unique_ptr<Connection> conn;
    try {
      if (Clock::now() < next_connect_at) {
        asio::steady_timer delay(ex, next_connect_at);
        co_await delay.async_wait(asio::use_awaitable);
      }
      if (closed) throw_closed();
      conn = co_await Connection::connect(ex, params, observer);
    } catch (const Error&) {
      if (!closed) note_connect_failure();
      free_slot();
      throw;
    } catch (...) {  // cancelled from outside (shutdown): not the server's fault, no backoff
      free_slot();
      throw;
    }
    if (closed) {  // closed while connecting: nobody may use it
      free_slot();
      throw_closed();
    }
    note_connect_success();
    co_return conn;
  }
};

Pool::Pool(asio::any_io_executor ex, ConnParams params, Options options, QueryObserver observer)
    : impl_(std::make_unique<Impl>()) {
  impl_->ex = std::move(ex);
  impl_->params = std::move(params);
  impl_->options = options;
  impl_->observer = std::move(observer);
}

Pool::~Pool() = default;

std::shared_ptr<Pool> Pool::create(asio::any_io_executor ex, ConnParams params, Options options,
                                   QueryObserver observer) {
  return std::shared_ptr<Pool>(new Pool(std::move(ex), std::move(params), options, std::move(observer)));
}

asio::awaitable<PooledConnection> Pool::acquire() {
  auto self = shared_from_this();  // the pool outlives this call even if the caller drops it
  Impl& d = *impl_;
  if (d.closed) throw_closed();
  while (!d.idle.empty()) {
    auto conn = std::move(d.idle.back());  // most recently used: least likely to have timed out
    d.idle.pop_back();
    if (!conn->still_connected()) {
      d.lost_since_connect = true;
      --d.open;
      continue;
    }
    ++d.in_use;
    co_return PooledConnection(self, std::move(conn));
  }
  if (d.open < d.options.max_open) {
    ++d.open;
    auto conn = co_await d.connect_slot();
    ++d.in_use;
    co_return PooledConnection(self, std::move(conn));
  }

  auto w = std::make_shared<Waiter>(d.ex);
  d.waiters.push_back(w);
  boost::system::error_code ec;
  co_await w->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (!w->woken()) {  // cancelled from outside: leave the queue
    std::erase(d.waiters, w);
    throw boost::system::system_error(ec ? ec : asio::error::operation_aborted);
  }
  if (w->closed) throw_closed();
  if (w->conn) co_return PooledConnection(self, std::move(w->conn));  // in_use already counted
  auto conn = co_await d.connect_slot();
  ++d.in_use;
  co_return PooledConnection(self, std::move(conn));
}

asio::awaitable<PooledConnection> Pool::acquire_if_free() {
  const Impl& d = *impl_;
  const bool free = !d.closed && d.waiters.empty() &&
                    (!d.idle.empty() || (d.open < d.options.max_open && Clock::now() >= d.next_connect_at));
  if (!free) co_return PooledConnection{};
  co_return co_await acquire();
}

void Pool::release(std::unique_ptr<Connection> conn) noexcept {
  Impl& d = *impl_;
  --d.in_use;
  if (d.closed || conn->broken()) {
    if (!d.closed) d.lost_since_connect = true;
    conn.reset();
    d.free_slot();
    return;
  }
  if (!d.waiters.empty()) {
    auto w = d.pop_waiter();
    w->conn = std::move(conn);
    ++d.in_use;
    w->wake.cancel();
    return;
  }
  d.idle.push_back(std::move(conn));
}

PoolStats Pool::stats() const noexcept {
  const Impl& d = *impl_;
  return PoolStats{d.open, d.in_use, d.options.max_open, d.reconnects, d.connect_failures, d.waiters.size()};
}

void Pool::close() noexcept {
  Impl& d = *impl_;
  if (d.closed) return;
  d.closed = true;
  d.open -= d.idle.size();
  d.idle.clear();
  while (!d.waiters.empty()) {
    auto w = d.pop_waiter();
    w->closed = true;
    w->wake.cancel();
  }
}

PooledConnection::PooledConnection(std::shared_ptr<Pool> pool, std::unique_ptr<Connection> conn)
    : pool_(std::move(pool)), conn_(std::move(conn)) {}

PooledConnection& PooledConnection::operator=(PooledConnection&& other) noexcept {
  if (this != &other) {
    give_back();
    pool_ = std::move(other.pool_);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

PooledConnection::~PooledConnection() { give_back(); }

void PooledConnection::give_back() noexcept {
  if (pool_ && conn_) pool_->release(std::move(conn_));
  pool_.reset();
}

}  // namespace bbmd::db

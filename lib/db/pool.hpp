#pragma once
// A small pool of connections with reconnect backoff: broken connections are dropped,
// and after a failed connect the next attempt waits (exponential, capped).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "db/connection.hpp"

namespace bbmd::db {

struct PoolStats {
  std::size_t open = 0;
  std::size_t in_use = 0;
  std::size_t max_open = 0;
  std::uint64_t reconnects = 0;       // successful connects after a connection was lost or failed
  std::uint64_t connect_failures = 0;
  std::size_t waiting = 0;            // acquire() calls queued for a free slot
};

class Pool;

// A connection borrowed from the pool; returned on destruction (dropped if broken).
class PooledConnection {
 public:
  PooledConnection() = default;
  PooledConnection(std::shared_ptr<Pool> pool, std::unique_ptr<Connection> conn);
  PooledConnection(PooledConnection&&) noexcept = default;
  PooledConnection& operator=(PooledConnection&&) noexcept;
  ~PooledConnection();
  Connection& operator*() const noexcept { return *conn_; }
  Connection* operator->() const noexcept { return conn_.get(); }
  explicit operator bool() const noexcept { return conn_ != nullptr; }

 private:
  void give_back() noexcept;
  std::shared_ptr<Pool> pool_;
  std::unique_ptr<Connection> conn_;
};

class Pool : public std::enable_shared_from_this<Pool> {
 public:
  struct Options {
    std::size_t max_open = 4;
    std::chrono::milliseconds reconnect_initial{100};
    std::chrono::milliseconds reconnect_max{10000};
  };
  static std::shared_ptr<Pool> create(asio::any_io_executor ex, ConnParams params, Options options,
                                      QueryObserver observer = {});
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Waits for a free slot, connecting if needed. Throws db::Error if a connect fails
  // (the pool then delays the next connect attempt) or if the pool is closed.
  asio::awaitable<PooledConnection> acquire();

  // Like acquire(), but never waits: an idle connection, or a new one when a slot is free, no
  // acquire() is queued and no reconnect backoff runs; otherwise an empty handle. For optional
  // work (the range lookahead) that must never delay a worker.
  asio::awaitable<PooledConnection> acquire_if_free();

  [[nodiscard]] PoolStats stats() const noexcept;
  void close() noexcept;  // closes idle connections; pending and later acquires throw

 private:
  friend class PooledConnection;
  struct Impl;
  Pool(asio::any_io_executor ex, ConnParams params, Options options, QueryObserver observer);
  void release(std::unique_ptr<Connection> conn) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bbmd::db

#pragma once
// Runs a coroutine inside BEGIN/COMMIT, rolling back on any exception (C++ cannot co_await inside
// a catch block, so the rollback happens after it). A failed COMMIT is never retried here: its
// outcome may be unknown, and callers are built so that the lease decides what happens next.
#include <boost/asio/awaitable.hpp>
#include <exception>
#include <optional>
#include <type_traits>
#include <vector>

#include "db/connection.hpp"

namespace bbmd::db {

// After a failure: ends the transaction if the connection still works. Never throws: the
// original error matters more, and a broken connection is dropped by the pool anyway.
inline boost::asio::awaitable<void> roll_back(Connection& conn) {
  if (conn.broken()) co_return;
  try {
    co_await conn.query("rollback", "ROLLBACK");
  } catch (...) {
  }
}

// BEGIN with the connection's transaction settings, in one round trip.
inline boost::asio::awaitable<void> begin(Connection& conn) {
  const std::vector<Statement> statements{Statement{"BEGIN", {}}, conn.transaction_settings()};
  co_await conn.pipeline("begin", statements);
}

template <typename Body>
auto in_transaction(Connection& conn, Body body) -> decltype(body()) {
  using T = typename decltype(body())::value_type;
  co_await begin(conn);
  std::exception_ptr failure;
  if constexpr (std::is_void_v<T>) {
    try {
      co_await body();
      co_await conn.query("commit", "COMMIT");
      co_return;
    } catch (...) {
      failure = std::current_exception();
    }
  } else {
    std::optional<T> value;
    try {
      value.emplace(co_await body());
      co_await conn.query("commit", "COMMIT");
      co_return std::move(*value);
    } catch (...) {
      failure = std::current_exception();
    }
  }
  co_await roll_back(conn);
  std::rethrow_exception(failure);
}

}  // namespace bbmd::db

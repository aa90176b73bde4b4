#pragma once
// Shared by the prepared-statement tests (direct and through PgBouncer): connections with
// database.preparedstatements on or off, a two-statement pipeline over a `logged (n int)` table,
// and the error a pipeline is expected to throw.
#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "db/connection.hpp"
#include "db/conninfo.hpp"
#include "db/transaction.hpp"

namespace bbmd::test {

inline boost::asio::awaitable<std::unique_ptr<db::Connection>> connect_named(boost::asio::any_io_executor ex,
                                                                             const config::Database& cfg, bool named) {
  auto params = db::conn_params(cfg, "bbmd-test");
  params.named_statements = named;
  co_return co_await db::Connection::connect(ex, params);
}

// Logs n, then counts the rows logged with n: two statements with parameters.
inline std::vector<db::Statement> log_and_count(int n) {
  return {db::Statement{"INSERT INTO logged VALUES ($1)", db::Params{n}},
          db::Statement{"SELECT count(*) FROM logged WHERE n = $1", db::Params{n}}};
}

// The error a pipeline threw; fails the test if it succeeded.
inline boost::asio::awaitable<db::PipelineError> pipeline_error(db::Connection& c,
                                                                const std::vector<db::Statement>& statements) {
  try {
    co_await c.pipeline("expect_error", statements);
  } catch (const db::PipelineError& e) {
    co_return e;
  }
  FAIL("the pipeline succeeded");
  co_return db::PipelineError(db::Error(db::ErrorKind::other, "", "unreachable"), 0);
}

// Runs log_and_count(n) in a transaction of its own; returns the count.
inline boost::asio::awaitable<std::int64_t> log_in_transaction(db::Connection& c, int n) {
  std::int64_t counted = 0;
  co_await db::in_transaction(c, [&]() -> boost::asio::awaitable<void> {
    counted = (co_await c.pipeline("log", log_and_count(n))).back().get_int(0, 0);
  });
  co_return counted;
}

}  // namespace bbmd::test

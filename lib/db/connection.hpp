#pragma once
// One libpq connection driven non-blocking on the Asio loop: its socket is watched by Asio,
// so a single thread serves many connections and timers.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/error.hpp"
#include "db/params.hpp"
#include "db/result.hpp"

namespace bbmd::db {

namespace asio = boost::asio;

// One statement of a pipeline: its metrics name is the pipeline's.
struct Statement {
  std::string sql;
  Params params;
};

// libpq keyword/value pairs (see conninfo.hpp); the password travels only here.
struct ConnParams {
  std::vector<std::pair<std::string, std::string>> keywords;
  std::chrono::milliseconds connect_timeout{5000};
  // Server settings (name, value) each explicit transaction takes for itself: no startup
  // parameter or session SET, which a pooler in transaction mode refuses or loses.
  std::vector<std::pair<std::string, std::string>> transaction_settings;
  // Pipeline statements with parameters run as named prepared statements (statement_cache.hpp)
  // until the server shows that this connection's session changes between transactions.
  bool named_statements = false;
};

// A pipeline statement failed: `index` says which (statements after it were skipped).
class PipelineError : public Error {
 public:
  PipelineError(const Error& error, std::size_t index) : Error(error), index_(index) {}
  [[nodiscard]] std::size_t index() const noexcept { return index_; }

 private:
  std::size_t index_;
};

// A NOTIFY the session received on a channel it LISTENs to.
struct Notification {
  std::string channel;
  std::string payload;
  int sender_pid = 0;  // the server process that sent it
};

// Called after every round trip with its name, duration and outcome (metrics hook).
using QueryObserver = std::function<void(std::string_view name, double seconds, bool ok)>;

class Connection {
 public:
  // Connects without blocking the loop. Throws db::Error (connection_lost / timeout).
  static asio::awaitable<std::unique_ptr<Connection>> connect(asio::any_io_executor ex, const ConnParams& params,
                                                              QueryObserver observer = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with bound parameters. `name` labels metrics and logs.
  // Throws db::Error; a broken connection is marked so the pool drops it.
  // Only one query at a time per connection: a second concurrent call throws std::logic_error.
  // If the awaiting coroutine is cancelled mid-query, the connection is marked broken and the
  // Asio cancellation (boost::system::system_error, operation_aborted) propagates.
  asio::awaitable<Result> query(std::string_view name, std::string_view sql, const Params& params = {});

  // Same, with the parameters listed inline: co_await c.query("name", "... $1, $2", id, text).
  // Prefer this over a braced list inside co_await: GCC 12 rejects an initializer_list
  // temporary in a co_await expression ("array used as initializer").
  template <class... Args>
    requires(sizeof...(Args) > 0 && (std::constructible_from<Param, Args> && ...))
  asio::awaitable<Result> query(std::string_view name, std::string_view sql, Args... args) {
    Params params{Param(std::move(args))...};
    co_return co_await query(name, sql, params);
  }

  // Sends every statement in one round trip (libpq pipeline mode) followed by one Sync. Outside
  // an explicit BEGIN they run as ONE implicit transaction that the Sync commits; the first
  // failing statement rolls it back, skips the rest and throws PipelineError. Inside an explicit
  // transaction a failure leaves it aborted: the caller rolls back. One result per statement.
  // A prepared statement the server session lacks (a transaction pooler gave this connection
  // another one) turns the connection to unnamed statements for good, logged once; the
  // pipeline is sent again if it started outside a transaction and committed nothing, else
  // PipelineError of kind prepared_statement_missing tells the caller to roll back and redo.
  asio::awaitable<std::vector<Result>> pipeline(std::string_view name, const std::vector<Statement>& statements);

  // Runs a script of one or more statements without parameters (simple query protocol), as
  // schema migrations need. Statements of one script run in one implicit transaction unless
  // the script has its own BEGIN/COMMIT. Returns the last statement's result; the first
  // failing statement throws db::Error and the rest are skipped.
  asio::awaitable<Result> execute_script(std::string_view name, std::string_view sql);

  // Waits, without a query in flight, until the server sends at least one notification (after a
  // LISTEN on this connection) and returns every one that has arrived, including any that came
  // with earlier results. Throws db::Error (connection_lost) when the session ends; a cancelled
  // wait propagates as in query(). Not reported to the observer: it is no round trip.
  asio::awaitable<std::vector<Notification>> notifications();

  // Asks the server to cancel the running statement, from a short sibling session (best effort),
  // in the server process backend_pid() names.
  asio::awaitable<void> cancel();

  // Sets ConnParams::transaction_settings for the current transaction only (set_config(..., true))
  // and reports the server process running it: pipelined right after BEGIN, no extra round trip.
  [[nodiscard]] const Statement& transaction_settings() const noexcept;

  // PQescapeIdentifier: the only way bbmd turns a name into SQL text.
  [[nodiscard]] std::string quote_identifier(std::string_view name) const;

  [[nodiscard]] bool broken() const noexcept;
  // Non-blocking liveness probe for an idle connection: reads what the server sent meanwhile
  // (a FATAL before a restart, the socket's EOF) and marks the connection broken if it is gone.
  // Lets the pool replace a dead idle connection before a job's first query fails on it.
  [[nodiscard]] bool still_connected() noexcept;
  // The server process running this connection's statements: inside a transaction whose
  // transaction_settings() result has arrived, the one it reported (behind a pooler libpq only
  // knows the pooler's key, and only an open transaction keeps one server process); otherwise
  // the one libpq was told at connect (PQbackendPID).
  [[nodiscard]] int backend_pid() const noexcept;
  void close() noexcept;  // safe to call twice

 private:
  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bbmd::db

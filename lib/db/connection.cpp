// Non-blocking libpq connection: connect, query and cancel driven by Asio socket readiness.
#include "db/connection.hpp"

#include "db/statement_cache.hpp"
#include "log/log.hpp"

#include <libpq-fe.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <boost/system/system_error.hpp>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <stdexcept>

namespace bbmd::db {

namespace {

using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr const char* kLogComponent = "bbmd.db";

struct PGconnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using PGconnPtr = std::unique_ptr<PGconn, PGconnDeleter>;

struct PGresultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using PGresultPtr = std::unique_ptr<PGresult, PGresultDeleter>;

// libpq messages end with a newline (sometimes several lines); logs want one trimmed string.
std::string trimmed(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A server error as the server's default format shows it ("ERROR:  message" and its DETAIL and
// HINT lines), whatever verbosity the connection parses with.
std::string result_message(const PGresult* res) {
  char* text = PQresultVerboseErrorMessage(res, PQERRORS_DEFAULT, PQSHOW_CONTEXT_ERRORS);
  std::string out = trimmed(text);
  PQfreemem(text);
  return out;
}

// Server notices (RAISE NOTICE in work functions, a FATAL that arrives while idle) would go to
// stderr as raw text by default and break the one-JSON-object-per-line log. A notice that names
// a server condition (the 57P02 warning every backend sends when another one crashed) is kept in
// `farewell`: the socket closes right after it, and the lost connection's error then says why.
void log_notice(void* farewell, const PGresult* res) {
  static const log::Logger logger(kLogComponent);
  const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  std::string_view sev = severity ? severity : "";
  bool chatter = sev == "NOTICE" || sev == "INFO" || sev == "LOG" || sev == "DEBUG";
  const std::string primary = trimmed(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
  logger.log(chatter ? log::Level::debug : log::Level::warn, "server notice", {{"severity", sev}, {"notice", primary}});
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  if (state && !server_condition(state).empty()) {
    *static_cast<std::string*>(farewell) = describe_server_error(state, std::string(sev) + ":  " + primary);
  }
}

// "SELECT set_config($1, $2, true), ..., pg_backend_pid()": each (name, value) for the current
// transaction only, and the server process that runs the transaction (its last column).
Statement local_settings(const std::vector<std::pair<std::string, std::string>>& settings) {
  Statement s{"SELECT ", {}};
  for (const auto& [name, value] : settings) {
    const auto n = s.params.size();
    s.sql += "set_config($" + std::to_string(n + 1) + ", $" + std::to_string(n + 2) + ", true), ";
    s.params.emplace_back(name);
    s.params.emplace_back(value);
  }
  s.sql += "pg_backend_pid()";
  return s;
}

// libpq's parameter array: the values' own strings, nullptr for SQL NULL. Valid while `params` is.
std::vector<const char*> param_values(const Params& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.value() ? p.value()->c_str() : nullptr);
  return values;
}

// "bbmd_<16 hex digits>_": prepared statement names of one connection (statement_cache.hpp).
std::string statement_prefix() {
  std::random_device random;
  const auto tag = (static_cast<unsigned long long>(random()) << 32) | random();
  char buf[32];
  std::snprintf(buf, sizeof buf, "bbmd_%016llx_", tag);
  return buf;
}

// A statement that ended a transaction (COMMIT, ROLLBACK, PREPARE TRANSACTION, COMMIT PREPARED):
// a pipeline that ran one before failing has committed, or may have, part of itself.
bool ended_a_transaction(const PGresult* res) {
  const std::string_view tag = res ? PQcmdStatus(const_cast<PGresult*>(res)) : "";
  return tag.starts_with("COMMIT") || tag.starts_with("ROLLBACK") || tag.starts_with("PREPARE");
}

}  // namespace

struct Connection::Impl {
  asio::any_io_executor ex;
  ConnParams params;  // kept to open a sibling session for cancel()
  Statement settings;  // params.transaction_settings as one statement
  // The server process running the open transaction, as its settings statement reported it;
  // 0 outside a transaction. Behind a pooler PQbackendPID is the pooler's key, not a process,
  // and only an open transaction keeps one server process.
  int transaction_pid = 0;
  PGconnPtr conn;
  // Watches libpq's socket; never owns it (released before libpq closes the fd).
  std::optional<asio::posix::stream_descriptor> sock;
  QueryObserver observer;
  bool broken = false;
  bool busy = false;  // a query is in flight: one at a time per connection
  // Pipeline statements with parameters run as named prepared statements (statement_cache.hpp)
  // while `named` holds: ConnParams::named_statements, until the server lacks one of them.
  bool named = false;
  StatementCache prepared;
  // What the server said about itself just before it closed the session (see log_notice).
  std::string farewell;

  // One pipeline round trip: a result per statement, and the name each statement ran under if
  // that name was parsed in an earlier round trip ("" otherwise): only such a name can be
  // missing from a server session a pooler swapped in.
  struct Sent {
    std::vector<PGresultPtr> results;
    std::vector<std::string> reused;
  };

  ~Impl() { unwatch(); }

  void unwatch() noexcept {
    if (sock) {
      error_code ignored;
      sock->cancel(ignored);
      sock->release();
      sock.reset();
    }
  }

  // Wraps libpq's current socket. During connect libpq may close its socket and open a new
  // one (next host, SSL fallback) that can even reuse the same fd number, so callers re-wrap
  // after every PQconnectPoll instead of comparing numbers.
  void watch() {
    unwatch();
    int fd = PQsocket(conn.get());
    if (fd < 0) fail_lost("connection has no socket");
    sock.emplace(ex, fd);
  }

  // The session is gone. The server may have said why: in libpq's message (a PANIC or FATAL
  // that came with the close, SQLSTATE kept by the verbose format) or in a notice before it.
  [[noreturn]] void fail_lost(const std::string& what) {
    broken = true;
    const auto said = parse_verbose_message(trimmed(conn ? PQerrorMessage(conn.get()) : nullptr));
    std::string msg = describe_server_error(said.sqlstate, said.text);
    if (said.sqlstate.empty() && !farewell.empty()) msg = msg.empty() ? farewell : farewell + "; " + msg;
    throw Error(ErrorKind::connection_lost, said.sqlstate, msg.empty() ? what : what + ": " + msg);
  }

  asio::awaitable<error_code> wait(asio::posix::stream_descriptor::wait_type type) {
    error_code ec;
    co_await sock->async_wait(type, asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
  }

  // Throws after a failed socket wait: an external cancellation stays an Asio cancellation
  // (the caller is stopping), anything else means the socket is unusable.
  [[noreturn]] void fail_wait(const error_code& ec) {
    broken = true;  // libpq is mid-protocol; the connection cannot be reused either way
    if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
    throw Error(ErrorKind::connection_lost, "", "socket wait failed: " + ec.message());
  }

  asio::awaitable<void> connect(std::chrono::milliseconds timeout);
  struct InFlight;
  asio::awaitable<Result> roundtrip(std::string_view name, const std::function<int(PGconn*)>& send);
  asio::awaitable<void> flush();
  asio::awaitable<void> await_input();
  asio::awaitable<PGresultPtr> read_results();
  asio::awaitable<PGresultPtr> read_one();
  asio::awaitable<Sent> pipeline(const std::vector<Statement>& statements);
  asio::awaitable<Sent> resend(const std::vector<Statement>& statements);
  std::optional<std::size_t> missing_statement(const Sent& sent) const;
  void stop_naming(const std::string& missing);
  void note_transaction_pid(const Statement& s, const PGresult* res);
  std::optional<std::string> prepare(const Statement& s, bool& sent_parse);
  std::vector<std::string> queue_deallocations();
  asio::awaitable<void> read_deallocations(std::vector<std::string> names);
  [[noreturn]] void throw_failure(PGresultPtr res);
};

asio::awaitable<void> Connection::Impl::connect(std::chrono::milliseconds timeout) {
  // The deadline cancels the pending socket wait; the flag tells that apart from other aborts.
  bool timed_out = false;
  asio::steady_timer deadline(ex, timeout);
  deadline.async_wait([this, &timed_out](error_code ec) {
    if (ec) return;  // cancelled: the connect finished (or the frame is gone)
    timed_out = true;
    error_code ignored;
    if (sock) sock->cancel(ignored);
  });
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;  // as libpq documents for the first round
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) fail_lost("connect failed");
    watch();
    auto ec = co_await wait(status == PGRES_POLLING_READING ? asio::posix::stream_descriptor::wait_read
                                                            : asio::posix::stream_descriptor::wait_write);
    if (timed_out) {
      broken = true;
      throw Error(ErrorKind::timeout, "", "connect timed out after " + std::to_string(timeout.count()) + "ms");
    }
    if (ec) fail_wait(ec);
    status = PQconnectPoll(conn.get());
  }
  deadline.cancel();
  watch();  // the final socket, used for every query from now on
  if (PQsetnonblocking(conn.get(), 1) != 0) fail_lost("cannot set non-blocking mode");
  // Keeps a server error's SQLSTATE in libpq's connection message (see parse_verbose_message);
  // results are shown in the default format (result_message). After the connect, so that a
  // refused login reads as it always did.
  PQsetErrorVerbosity(conn.get(), PQERRORS_VERBOSE);
}

asio::awaitable<void> Connection::Impl::flush() {
  // PQflush returns 1 while libpq still holds unsent bytes (large parameters).
  for (;;) {
    int r = PQflush(conn.get());
    if (r == 0) co_return;
    if (r < 0) fail_lost("sending query failed");
    if (auto ec = co_await wait(asio::posix::stream_descriptor::wait_write)) fail_wait(ec);
    // Reading what the server sent meanwhile keeps it from blocking on its own send buffer.
    if (!PQconsumeInput(conn.get())) fail_lost("reading from server failed");
  }
}

// Called when libpq has no complete result buffered. A pipeline's results mostly arrive
// together: the socket is read only when libpq needs more, and waited on only when that read
// found too little, instead of a read that finds nothing before every result.
asio::awaitable<void> Connection::Impl::await_input() {
  if (!PQconsumeInput(conn.get())) fail_lost("reading from server failed");
  if (!PQisBusy(conn.get())) co_return;
  if (auto ec = co_await wait(asio::posix::stream_descriptor::wait_read)) fail_wait(ec);
  if (!PQconsumeInput(conn.get())) fail_lost("reading from server failed");
}

asio::awaitable<PGresultPtr> Connection::Impl::read_results() {
  PGresultPtr last;
  for (;;) {
    while (!PQisBusy(conn.get())) {
      PGresultPtr res(PQgetResult(conn.get()));
      if (!res) co_return last;
      // Keep the last result, but an error wins over anything libpq reports after it.
      if (!last || PQresultStatus(last.get()) != PGRES_FATAL_ERROR) last = std::move(res);
    }
    co_await await_input();
  }
}

// One request at a time per connection; reports to the observer on every exit path.
struct Connection::Impl::InFlight {
  Impl& d;
  std::string_view name;
  Clock::time_point start = Clock::now();
  bool ok = false;
  InFlight(Impl& impl, std::string_view n) : d(impl), name(n) {
    if (d.busy) throw std::logic_error("db::Connection: another query is already running on this connection");
    if (d.broken || !d.conn) throw Error(ErrorKind::connection_lost, "", "connection is broken or closed");
    if (PQtransactionStatus(d.conn.get()) == PQTRANS_IDLE) d.transaction_pid = 0;
    d.busy = true;
  }
  ~InFlight() {
    d.busy = false;
    if (d.observer) d.observer(name, std::chrono::duration<double>(Clock::now() - start).count(), ok);
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
};

// Sends one request (send() is PQsendQuery or PQsendQueryParams), waits for all its results
// and turns a failure into db::Error.
asio::awaitable<Result> Connection::Impl::roundtrip(std::string_view name, const std::function<int(PGconn*)>& send) {
  InFlight in_flight(*this, name);
  if (!send(conn.get())) {
    if (PQstatus(conn.get()) == CONNECTION_BAD) fail_lost("sending query failed");
    throw Error(ErrorKind::other, "", trimmed(PQerrorMessage(conn.get())));
  }
  co_await flush();
  PGresultPtr res = co_await read_results();

  if (!res || PQresultStatus(res.get()) == PGRES_FATAL_ERROR) throw_failure(std::move(res));
  if (PQstatus(conn.get()) == CONNECTION_BAD) fail_lost("connection lost");
  in_flight.ok = true;
  co_return Result(res.release());
}

// Turns a failed (or missing) result into db::Error. The server may report the cause
// (57P01 ...) and then close; either way the session is then gone. A FATAL or PANIC ends the
// session whatever its code (an idle-in-transaction timeout's 25P03, a full WAL volume's 53100).
void Connection::Impl::throw_failure(PGresultPtr res) {
  const char* state = res ? PQresultErrorField(res.get(), PG_DIAG_SQLSTATE) : nullptr;
  const bool closed = PQstatus(conn.get()) == CONNECTION_BAD;
  if (!state && closed) fail_lost("connection lost");
  const char* severity = res ? PQresultErrorField(res.get(), PG_DIAG_SEVERITY_NONLOCALIZED) : nullptr;
  const std::string_view level = severity ? severity : "";
  const bool lost = closed || level == "FATAL" || level == "PANIC";
  std::string sqlstate = state ? state : "";
  std::string msg = res ? result_message(res.get()) : parse_verbose_message(trimmed(PQerrorMessage(conn.get()))).text;
  ErrorKind kind = lost ? ErrorKind::connection_lost : classify_sqlstate(sqlstate);
  if (kind == ErrorKind::connection_lost) broken = true;
  throw Error(kind, sqlstate, describe_server_error(sqlstate, msg.empty() ? "query failed" : msg));
}

// The next single result (in pipeline mode: a statement's result, its NULL end, or the Sync).
asio::awaitable<PGresultPtr> Connection::Impl::read_one() {
  for (;;) {
    if (!PQisBusy(conn.get())) co_return PGresultPtr(PQgetResult(conn.get()));
    co_await await_input();
  }
}

// The name `s` runs under as a prepared statement, queueing its Parse first when the name is
// new (sent_parse); nullopt: run it unnamed (no parameters, or the cache is full).
std::optional<std::string> Connection::Impl::prepare(const Statement& s, bool& sent_parse) {
  sent_parse = false;
  if (!named || s.params.empty()) return std::nullopt;
  auto use = prepared.use(s.sql);
  if (!use) return std::nullopt;
  if (use->parse) {
    if (!PQsendPrepare(conn.get(), use->name.c_str(), s.sql.c_str(), static_cast<int>(s.params.size()), nullptr)) {
      fail_lost("queueing a pipeline statement failed");  // nothing is sent yet; drop the connection
    }
    sent_parse = true;
  }
  return std::move(use->name);
}

// Retired prepared statements are deallocated in a Sync segment of their own ahead of the
// caller's, in the same round trip, and only outside a transaction: a failing DEALLOCATE can
// then never abort the caller's statements or an open transaction.
std::vector<std::string> Connection::Impl::queue_deallocations() {
  PGconn* c = conn.get();
  if (PQtransactionStatus(c) != PQTRANS_IDLE) return {};
  auto names = prepared.take_retired();
  if (names.empty()) return names;
  for (const auto& name : names) {
    const std::string sql = "DEALLOCATE " + name;
    if (!PQsendQueryParams(c, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0)) {
      fail_lost("queueing a pipeline statement failed");
    }
  }
  if (!PQpipelineSync(c)) fail_lost("queueing a pipeline sync failed");
  return names;
}

// A DEALLOCATE skipped (the server saw no statement of it) is tried again next time; any other
// failure means the server does not hold the name.
asio::awaitable<void> Connection::Impl::read_deallocations(std::vector<std::string> names) {
  if (names.empty()) co_return;
  for (auto& name : names) {
    auto res = co_await read_results();
    if (res && PQresultStatus(res.get()) == PGRES_PIPELINE_ABORTED) prepared.retire(std::move(name));
  }
  auto sync = co_await read_one();
  if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) fail_lost("pipeline did not end with its sync");
}

// Queues every statement and a Sync, flushes once, then reads each statement's results and the
// Sync's, so the connection leaves pipeline mode idle even when a statement failed. A failed
// Parse stands for its statement's result (the statement itself was skipped) and is forgotten.
asio::awaitable<Connection::Impl::Sent> Connection::Impl::pipeline(const std::vector<Statement>& statements) {
  PGconn* c = conn.get();
  if (!PQenterPipelineMode(c)) throw Error(ErrorKind::other, "", trimmed(PQerrorMessage(c)));
  auto deallocating = queue_deallocations();
  std::vector<bool> parsing(statements.size(), false);
  Sent sent;
  sent.reused.resize(statements.size());
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const auto& s = statements[i];
    const auto values = param_values(s.params);
    bool sent_parse = false;
    const auto name = prepare(s, sent_parse);
    parsing[i] = sent_parse;
    if (name && !sent_parse) sent.reused[i] = *name;
    const int n = static_cast<int>(values.size());
    const int sent = name ? PQsendQueryPrepared(c, name->c_str(), n, values.data(), nullptr, nullptr, 0)
                          : PQsendQueryParams(c, s.sql.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0);
    if (!sent) fail_lost("queueing a pipeline statement failed");  // nothing is sent yet; drop the connection
    // The server holds results back until the Sync; a Flush after the transaction settings
    // hands over their server process id while the statements after them still run.
    if (s.sql == settings.sql && !PQsendFlushRequest(c)) fail_lost("queueing a pipeline flush failed");
  }
  if (!PQpipelineSync(c)) fail_lost("queueing a pipeline sync failed");
  co_await flush();
  co_await read_deallocations(std::move(deallocating));
  auto& results = sent.results;
  for (std::size_t i = 0; i < statements.size(); ++i) {
    if (parsing[i]) {
      auto parsed = co_await read_results();
      const bool ok = parsed && PQresultStatus(parsed.get()) == PGRES_COMMAND_OK;
      if (!ok) {
        prepared.forget(statements[i].sql);
        auto skipped = co_await read_results();
        results.push_back(std::move(parsed));
        continue;
      }
    }
    results.push_back(co_await read_results());
    note_transaction_pid(statements[i], results.back().get());
  }
  auto sync = co_await read_one();
  if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC || !PQexitPipelineMode(c)) {
    fail_lost("pipeline did not end with its sync");
  }
  co_return sent;
}

// Read as soon as its result arrives, so that cancel() can reach the statements queued after it.
void Connection::Impl::note_transaction_pid(const Statement& s, const PGresult* res) {
  if (s.sql != settings.sql || !res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) return;
  transaction_pid = std::atoi(PQgetvalue(res, 0, PQnfields(res) - 1));
}

// The index of the failed statement if it failed because the server session lacks the name it
// ran under: SQLSTATE 26000 naming that very statement, which this connection parsed in an
// earlier round trip (a 26000 the statement's own SQL raised names something else).
std::optional<std::size_t> Connection::Impl::missing_statement(const Sent& sent) const {
  for (std::size_t i = 0; i < sent.results.size(); ++i) {
    const PGresult* res = sent.results[i].get();
    if (res && PQresultStatus(res) != PGRES_FATAL_ERROR) continue;
    if (!res || sent.reused[i].empty()) return std::nullopt;
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const std::string message = result_message(res);
    const bool missing = state && std::string_view(state) == "26000" &&
                         message.find('"' + sent.reused[i] + '"') != std::string_view::npos;
    return missing ? std::optional<std::size_t>(i) : std::nullopt;
  }
  return std::nullopt;
}

// The names live on server sessions this connection may never see again, and a pooler may hand
// it any session per transaction: from now on every statement is parsed where it runs.
void Connection::Impl::stop_naming(const std::string& missing) {
  static const log::Logger logger(kLogComponent);
  named = false;
  prepared = StatementCache{};
  logger.warn("prepared statement missing on the server session; running unnamed statements on this connection "
              "from now on (behind a transaction pooler, set database.preparedstatements: false)",
              {{"statement", missing}});
}

// After a missing name, with nothing of the pipeline committed: sends it again, unnamed. If
// its own BEGIN left an aborted transaction, a ROLLBACK goes first in the same round trip.
asio::awaitable<Connection::Impl::Sent> Connection::Impl::resend(const std::vector<Statement>& statements) {
  if (PQtransactionStatus(conn.get()) != PQTRANS_INERROR) co_return co_await pipeline(statements);
  std::vector<Statement> again;
  again.reserve(statements.size() + 1);
  again.push_back(Statement{"ROLLBACK", {}});
  again.insert(again.end(), statements.begin(), statements.end());
  auto sent = co_await pipeline(again);
  auto rollback = std::move(sent.results.front());
  if (!rollback || PQresultStatus(rollback.get()) != PGRES_COMMAND_OK) throw_failure(std::move(rollback));
  sent.results.erase(sent.results.begin());
  sent.reused.erase(sent.reused.begin());
  co_return sent;
}

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Connection::~Connection() { close(); }

asio::awaitable<std::unique_ptr<Connection>> Connection::connect(asio::any_io_executor ex, const ConnParams& params,
                                                                 QueryObserver observer) {
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : params.keywords) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);

  auto impl = std::make_unique<Impl>();
  impl->ex = ex;
  impl->params = params;
  impl->settings = local_settings(params.transaction_settings);
  impl->named = params.named_statements;
  impl->prepared = StatementCache(statement_prefix());
  impl->observer = std::move(observer);
  impl->conn.reset(PQconnectStartParams(keys.data(), values.data(), 0));
  if (!impl->conn) throw Error(ErrorKind::connection_lost, "", "libpq could not allocate a connection");
  if (PQstatus(impl->conn.get()) == CONNECTION_BAD) impl->fail_lost("connect failed");
  PQsetNoticeReceiver(impl->conn.get(), log_notice, &impl->farewell);
  co_await impl->connect(params.connect_timeout);
  co_return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

asio::awaitable<Result> Connection::query(std::string_view name, std::string_view sql, const Params& params) {
  const auto values = param_values(params);
  std::string sql_text(sql);
  // Named, not a temporary inside co_await: GCC 12 may destroy such temporaries twice.
  const std::function<int(PGconn*)> send = [&](PGconn* c) {
    return PQsendQueryParams(c, sql_text.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                             nullptr, 0);
  };
  co_return co_await impl_->roundtrip(name, send);
}

asio::awaitable<std::vector<Result>> Connection::pipeline(std::string_view name,
                                                          const std::vector<Statement>& statements) {
  Impl::InFlight in_flight(*impl_, name);  // one round trip: the observer counts the pipeline once
  const bool outside_transaction = PQtransactionStatus(impl_->conn.get()) == PQTRANS_IDLE;
  auto sent = co_await impl_->pipeline(statements);
  if (const auto missing = impl_->missing_statement(sent)) {
    impl_->stop_naming(sent.reused[*missing]);
    const auto& results = sent.results;
    const bool committed = std::any_of(results.begin(), results.begin() + static_cast<std::ptrdiff_t>(*missing),
                                       [](const PGresultPtr& r) { return ended_a_transaction(r.get()); });
    if (!outside_transaction || committed) {
      const Error e(ErrorKind::prepared_statement_missing, "26000",
                    result_message(results[*missing].get()) +
                        " (the server session changed under this connection, which runs unnamed statements "
                        "from now on; roll back and run the transaction again)");
      throw PipelineError(e, *missing);
    }
    sent = co_await impl_->resend(statements);
  }
  auto& raw = sent.results;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] && PQresultStatus(raw[i].get()) != PGRES_FATAL_ERROR) continue;
    try {
      impl_->throw_failure(std::move(raw[i]));
    } catch (const Error& e) {
      throw PipelineError(e, i);
    }
  }
  if (PQstatus(impl_->conn.get()) == CONNECTION_BAD) impl_->fail_lost("connection lost");
  std::vector<Result> out;
  out.reserve(raw.size());
  for (auto& r : raw) out.emplace_back(r.release());
  in_flight.ok = true;
  co_return out;
}

asio::awaitable<Result> Connection::execute_script(std::string_view name, std::string_view sql) {
  std::string sql_text(sql);
  const std::function<int(PGconn*)> send = [&](PGconn* c) { return PQsendQuery(c, sql_text.c_str()); };
  co_return co_await impl_->roundtrip(name, send);
}

asio::awaitable<std::vector<Notification>> Connection::notifications() {
  Impl& d = *impl_;
  if (d.busy) throw std::logic_error("db::Connection: a query is running on this connection");
  if (d.broken || !d.conn) throw Error(ErrorKind::connection_lost, "", "connection is broken or closed");
  d.busy = true;  // a query sent meanwhile would take the replies this wait reads
  struct Idle {
    bool& busy;
    ~Idle() { busy = false; }
  } idle{d.busy};
  std::vector<Notification> out;
  for (;;) {
    if (!PQconsumeInput(d.conn.get()) || PQstatus(d.conn.get()) == CONNECTION_BAD) d.fail_lost("connection lost");
    while (PGnotify* n = PQnotifies(d.conn.get())) {
      out.push_back({n->relname, n->extra ? n->extra : "", n->be_pid});
      PQfreemem(n);
    }
    if (!out.empty()) co_return out;
    if (auto ec = co_await d.wait(asio::posix::stream_descriptor::wait_read)) d.fail_wait(ec);
  }
}

asio::awaitable<void> Connection::cancel() {
  if (!impl_->conn) co_return;
  const int pid = backend_pid();
  // PQcancel would block the loop on its own connect (and a helper thread would make bbmd
  // multi-threaded for this one rare call); a short non-blocking sibling session asks the
  // server instead. Best effort: if it fails, the statement runs to its statement_timeout.
  try {
    auto sibling = co_await connect(impl_->ex, impl_->params);
    co_await sibling->query("cancel_backend", "SELECT pg_cancel_backend($1)", pid);
  } catch (const std::exception& e) {
    static const log::Logger logger(kLogComponent);
    logger.warn("cancelling a running statement failed", {{"backend_pid", pid}, {"error", e.what()}});
  }
}

const Statement& Connection::transaction_settings() const noexcept { return impl_->settings; }

std::string Connection::quote_identifier(std::string_view name) const {
  if (!impl_->conn) throw Error(ErrorKind::connection_lost, "", "connection is closed");
  char* quoted = PQescapeIdentifier(impl_->conn.get(), name.data(), name.size());
  if (!quoted) throw Error(ErrorKind::data_error, "", trimmed(PQerrorMessage(impl_->conn.get())));
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

bool Connection::broken() const noexcept { return impl_->broken || !impl_->conn; }

bool Connection::still_connected() noexcept {
  Impl& d = *impl_;
  if (d.broken || !d.conn) return false;
  if (d.busy) return true;  // a query in flight will find out itself
  // One read returns what the server sent before closing (its FATAL), the next sees the EOF.
  for (int i = 0; i < 2 && !d.broken; ++i) {
    if (!PQconsumeInput(d.conn.get()) || PQstatus(d.conn.get()) == CONNECTION_BAD) d.broken = true;
  }
  if (!d.broken) (void)PQisBusy(d.conn.get());  // parses what was read, so buffers do not grow
  return !d.broken;
}

int Connection::backend_pid() const noexcept {
  if (!impl_->conn) return 0;
  return impl_->transaction_pid != 0 ? impl_->transaction_pid : PQbackendPID(impl_->conn.get());
}

void Connection::close() noexcept {
  if (!impl_) return;
  impl_->unwatch();  // before PQfinish closes the fd
  impl_->conn.reset();
  impl_->broken = true;
}

}  // namespace bbmd::db

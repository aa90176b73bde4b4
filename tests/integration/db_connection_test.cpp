// db::Connection against a real PostgreSQL: params, quoting, SQLSTATEs, lost connections,
// cancel, non-blocking interleaving, the connect timeout, and pipeline statements planned afresh.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "db/connection.hpp"
#include "db/conninfo.hpp"
#include "db/statement_cache.hpp"
#include "db/transaction.hpp"
#include "support/async.hpp"
#include "support/poll.hpp"
#include "support/test_db.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
using bbmd::db::Connection;
using bbmd::db::Error;
using bbmd::db::ErrorKind;
using bbmd::test::run_async;
using bbmd::test::TestDatabase;
using Clock = std::chrono::steady_clock;

namespace {

asio::awaitable<std::unique_ptr<Connection>> connect(asio::any_io_executor ex, const TestDatabase& db,
                                                     bbmd::db::QueryObserver observer = {}) {
  co_return co_await Connection::connect(ex, bbmd::db::conn_params(db.config(), "bbmd-test"), std::move(observer));
}

// Runs sql and returns the error it raised; fails the test if it succeeded.
asio::awaitable<Error> query_error(Connection& c, std::string sql) {
  try {
    co_await c.query("expect_error", sql);
  } catch (const Error& e) {
    co_return e;
  }
  FAIL("expected an error from: " << sql);
  co_return Error(ErrorKind::other, "", "unreachable");
}

// How connecting with `cfg` fails, or nullopt if it connects.
std::optional<ErrorKind> connect_error(const bbmd::config::Database& cfg) {
  std::optional<ErrorKind> kind;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    try {
      co_await Connection::connect(ex, bbmd::db::conn_params(cfg));
    } catch (const Error& e) {
      kind = e.kind();
    }
  });
  return kind;
}

}  // namespace

TEST_CASE("conninfo never prints the password", "[db][conninfo]") {
  bbmd::config::Database cfg;
  cfg.password = "s3cret-pw";
  auto text = bbmd::db::describe(cfg);
  CHECK(text.find("s3cret-pw") == std::string::npos);
  CHECK(text.find("host=localhost") != std::string::npos);

  auto params = bbmd::db::conn_params(cfg, "app");
  auto has = [&](const std::string& k, const std::string& v) {
    for (const auto& [key, val] : params.keywords) {
      if (key == k) return val == v;
    }
    return false;
  };
  CHECK(has("password", "s3cret-pw"));
  CHECK(has("application_name", "app"));
  CHECK(has("keepalives", "1"));
  // No startup parameter a pooler refuses: the server's end gets its bounds per transaction.
  for (const auto& kv : params.keywords) CHECK(kv.first != "options");
  using Settings = std::vector<std::pair<std::string, std::string>>;
  CHECK(params.transaction_settings == Settings{{"client_connection_check_interval", "1000"},
                                                {"tcp_keepalives_idle", "10"},
                                                {"tcp_keepalives_interval", "5"},
                                                {"tcp_keepalives_count", "3"},
                                                {"tcp_user_timeout", "30000"}});
  cfg.password.clear();
  for (const auto& kv : bbmd::db::conn_params(cfg).keywords) CHECK(kv.first != "password");
}

TEST_CASE("each transaction takes the configured liveness bounds for the server's end, the session keeps its own",
          "[db][conninfo]") {
  TestDatabase db;
  auto cfg = db.config();
  cfg.keepalives.idle = 7s;
  cfg.keepalives.interval = 2s;
  cfg.keepalives.count = 4;
  cfg.tcpusertimeout = 2500ms;
  auto params = bbmd::db::conn_params(cfg);
  // Named statements do not prove the server session is this connection's own: PgBouncer 1.21+
  // (max_prepared_statements) keeps them working across the server sessions it hands out.
  SECTION("unnamed statements") { params.named_statements = false; }
  SECTION("named statements") { params.named_statements = true; }
  const std::string sql =
      "SELECT inet_client_addr() IS NOT NULL, current_setting('client_connection_check_interval'), "
      "current_setting('tcp_keepalives_idle'), current_setting('tcp_keepalives_interval'), "
      "current_setting('tcp_keepalives_count'), current_setting('tcp_user_timeout')";
  auto res = run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::vector<bbmd::db::Result>> {
    auto c = co_await Connection::connect(ex, params);
    std::vector<bbmd::db::Result> out;
    co_await bbmd::db::in_transaction(*c, [&]() -> asio::awaitable<void> {
      out.push_back(co_await c->query("liveness_in_transaction", sql));
    });
    out.push_back(co_await c->query("liveness_after", sql));
    co_return out;
  });
  REQUIRE(res.at(0).get_bool(0, 0));  // over TCP: on a unix socket the server ignores these settings
  CHECK(res[0].get_string(0, 1) == "1s");
  CHECK(res[0].get_string(0, 2) == "7");  // seconds
  CHECK(res[0].get_string(0, 3) == "2");
  CHECK(res[0].get_string(0, 4) == "4");
  CHECK(res[0].get_string(0, 5) == "2500");  // milliseconds
  // SET LOCAL: nothing stays behind on a server session a pooler hands to someone else next.
  CHECK(res[1].get_string(0, 1) == "0");
  CHECK(res[1].get_string(0, 2) != "7");  // the kernel's default again (SHOW reads the socket)
  CHECK(res[1].get_string(0, 5) == "0");
}

TEST_CASE("bound parameters round-trip as values, never as SQL", "[db][connection]") {
  TestDatabase db;
  const std::string nasty = "it's \"quoted\"; DROP TABLE x; --";
  auto res = run_async([&](asio::any_io_executor ex) -> asio::awaitable<bbmd::db::Result> {
    auto c = co_await connect(ex, db);
    co_return co_await c->query("roundtrip", "SELECT $1::text AS s, $2::bigint AS n, $3::text AS missing, "
                                             "$4::float8 AS f, $5::bool AS b, $3::text IS NULL AS is_null",
                                nasty, std::int64_t{9007199254740993}, std::nullopt, 0.1, true);
  });
  REQUIRE(res.rows() == 1);
  CHECK(res.get_string(0, "s") == nasty);
  CHECK(res.get_int(0, "n") == 9007199254740993);
  CHECK(res.is_null(0, res.column("missing")));
  CHECK_FALSE(res.opt_string(0, "missing").has_value());
  CHECK_THROWS_WITH(res.get_string(0, "missing"), Catch::Contains("missing"));
  CHECK(res.get_double(0, "f") == 0.1);
  CHECK(res.get_bool(0, "b"));
  CHECK(res.get_bool(0, "is_null"));
  CHECK_THROWS_AS(res.column("nope"), std::out_of_range);
  CHECK_THROWS_WITH(res.get_int(0, "s"), Catch::Contains("\"s\""));
}

// The plan the session's prepared statement for `sql` runs under now, and how many prepared
// statements the session holds for it.
struct PreparedPlan {
  std::string plan;
  std::int64_t held = 0;
};

asio::awaitable<PreparedPlan> prepared_plan(Connection& c, const std::string& sql) {
  PreparedPlan out;
  auto held = co_await c.query("held", "SELECT name FROM pg_prepared_statements WHERE statement = $1", sql);
  out.held = static_cast<std::int64_t>(held.rows());
  if (held.rows() != 1) co_return out;
  const std::string explain = "EXPLAIN EXECUTE " + held.get_string(0, "name") + "(1)";
  auto plan = co_await c.query("plan", explain);
  for (int row = 0; row < plan.rows(); ++row) out.plan += plan.get_string(row, 0) + "\n";
  co_return out;
}

TEST_CASE("a pipeline statement is planned afresh for its grown table after kReplanAfterUses uses",
          "[db][connection][statement_cache]") {
  TestDatabase db;
  // Statistics that call the table empty, as after an operator deleted old jobs and vacuum ran.
  db.exec("CREATE TABLE grows (id bigint PRIMARY KEY, note text) WITH (autovacuum_enabled = false)");
  db.exec("INSERT INTO grows SELECT g, 'x' FROM generate_series(1, 2000) g");
  db.exec("DELETE FROM grows");
  db.exec("VACUUM (ANALYZE) grows");
  const std::string lookup = "SELECT count(*) FROM grows WHERE id = $1";
  struct Seen {
    PreparedPlan before, after;
  };
  const auto seen = run_async([&](asio::any_io_executor ex) -> asio::awaitable<Seen> {
    auto params = bbmd::db::conn_params(db.config(), "bbmd-test");
    params.named_statements = true;  // database.preparedstatements
    auto c = co_await Connection::connect(ex, params);
    const std::vector<bbmd::db::Statement> one{bbmd::db::Statement{lookup, bbmd::db::Params{std::int64_t{1}}}};
    std::uint32_t uses = 0;
    for (; uses < 10; ++uses) co_await c->pipeline("lookup", one);  // planned for the empty table
    co_await c->query("grow", "INSERT INTO grows SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g");
    Seen out;
    out.before = co_await prepared_plan(*c, lookup);
    for (; uses <= bbmd::db::StatementCache::kReplanAfterUses; ++uses) co_await c->pipeline("lookup", one);
    co_await c->pipeline("lookup", one);  // deallocates the retired name
    out.after = co_await prepared_plan(*c, lookup);
    co_return out;
  });
  INFO("plan before:\n" << seen.before.plan << "plan after:\n" << seen.after.plan);
  REQUIRE(seen.before.held == 1);
  CHECK_THAT(seen.before.plan, Catch::Contains("Seq Scan on grows"));
  REQUIRE(seen.after.held == 1);
  CHECK_THAT(seen.after.plan, Catch::Contains("Index") && !Catch::Contains("Seq Scan"));
}

TEST_CASE("affected_rows counts changed rows", "[db][connection]") {
  TestDatabase db;
  db.exec("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 5)");
  auto n = run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::int64_t> {
    auto c = co_await connect(ex, db);
    auto res = co_await c->query("update", "UPDATE t SET id = id + 1 WHERE id > $1", 2);
    co_return res.affected_rows();
  });
  CHECK(n == 3);
}

TEST_CASE("execute_script runs several statements as one unit", "[db][connection]") {
  TestDatabase db;
  std::optional<Error> failure;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await connect(ex, db);
    co_await c->execute_script("setup", "CREATE TABLE s (id int); INSERT INTO s VALUES (1); INSERT INTO s VALUES (2);");
    try {
      co_await c->execute_script("broken", "INSERT INTO s VALUES (3); SELECT * FROM missing; INSERT INTO s VALUES (4);");
    } catch (const Error& e) {
      failure = e;
    }
  });
  REQUIRE(failure.has_value());
  CHECK(failure->kind() == ErrorKind::undefined_object);
  CHECK(db.count("SELECT count(*) FROM s") == 2);  // the failed script left nothing behind
}

TEST_CASE("quote_identifier makes any name usable", "[db][connection]") {
  TestDatabase db;
  const std::string name = "odd \"table\"; name";
  auto count = run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::int64_t> {
    auto c = co_await connect(ex, db);
    auto q = c->quote_identifier(name);
    co_await c->query("create", "CREATE TABLE " + q + " (id int)");
    co_await c->query("insert", "INSERT INTO " + q + " VALUES (1), (2)");
    auto res = co_await c->query("count", "SELECT count(*) FROM " + q);
    co_return res.get_int(0, 0);
  });
  CHECK(count == 2);
  CHECK(db.scalar("SELECT relname FROM pg_class WHERE relname LIKE 'odd%'") == name);
}

TEST_CASE("server errors are classified by SQLSTATE", "[db][connection]") {
  TestDatabase db;
  db.exec("CREATE TABLE locked (id int)");
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await connect(ex, db);

    auto undefined = co_await query_error(*c, "SELECT * FROM no_such_table");
    CHECK(undefined.kind() == ErrorKind::undefined_object);
    CHECK(undefined.sqlstate() == "42P01");
    CHECK_THAT(undefined.what(), Catch::Contains("no_such_table"));
    CHECK_FALSE(c->broken());

    co_await c->query("set", "SET statement_timeout = '100ms'");
    auto canceled = co_await query_error(*c, "SELECT pg_sleep(5)");
    CHECK(canceled.kind() == ErrorKind::query_canceled);
    CHECK(canceled.sqlstate() == "57014");
    co_await c->query("reset", "RESET statement_timeout");

    auto holder = co_await connect(ex, db);
    co_await holder->query("begin", "BEGIN");
    co_await holder->query("lock", "LOCK TABLE locked IN ACCESS EXCLUSIVE MODE");
    co_await c->query("set", "SET lock_timeout = '100ms'");
    auto lock = co_await query_error(*c, "SELECT * FROM locked");
    CHECK(lock.kind() == ErrorKind::lock_timeout);
    CHECK(lock.sqlstate() == "55P03");

    auto data = co_await query_error(*c, "SELECT 'x'::int");
    CHECK(data.kind() == ErrorKind::data_error);

    // None of these breaks the session.
    auto res = co_await c->query("still_ok", "SELECT 1");
    CHECK(res.get_int(0, 0) == 1);
    CHECK_FALSE(c->broken());
  });
}

TEST_CASE("a terminated backend surfaces as connection_lost and breaks the connection", "[db][connection]") {
  TestDatabase db;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await connect(ex, db);
    int pid = c->backend_pid();
    REQUIRE(pid > 0);
    db.exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
    auto gone = [&] { return db.count("SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid)) == 0; };
    REQUIRE(co_await bbmd::test::async_poll_until(gone, 10s));

    auto err = co_await query_error(*c, "SELECT 1");
    CHECK(err.kind() == ErrorKind::connection_lost);
    CHECK(err.breaks_connection());
    CHECK(c->broken());
    // The server's last word names why the session ended, whichever way libpq saw it arrive.
    CHECK_THAT(err.what(), Catch::Contains("the database server is shutting down or ended this session (SQLSTATE "
                                           "57P01): FATAL:  terminating connection due to administrator command"));
    // Further use fails fast instead of touching the dead socket.
    auto again = co_await query_error(*c, "SELECT 1");
    CHECK(again.kind() == ErrorKind::connection_lost);
  });
}

TEST_CASE("cancel() interrupts a running statement promptly", "[db][connection]") {
  TestDatabase db;
  auto elapsed = run_async([&](asio::any_io_executor ex) -> asio::awaitable<Clock::duration> {
    auto sleeper = co_await connect(ex, db);
    auto watcher = co_await connect(ex, db);
    auto start = Clock::now();
    std::optional<ErrorKind> kind;
    auto sleep = [&]() -> asio::awaitable<void> {
      try {
        co_await sleeper->query("sleep", "SELECT pg_sleep(30)");
      } catch (const Error& e) {
        kind = e.kind();
      }
    };
    auto cancel_when_running = [&]() -> asio::awaitable<void> {
      const std::string sql = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid = " +
                              std::to_string(sleeper->backend_pid());
      for (;;) {  // cancel only once the server runs it, or the cancel would hit nothing
        auto res = co_await watcher->query("watch", sql);
        if (res.get_int(0, 0) == 1) break;
      }
      co_await sleeper->cancel();
    };
    co_await (sleep() && cancel_when_running());
    CHECK(kind == ErrorKind::query_canceled);
    CHECK_FALSE(sleeper->broken());
    co_return Clock::now() - start;
  });
  CHECK(elapsed < 3s);
}

TEST_CASE("queries on several connections interleave on one thread", "[db][connection]") {
  TestDatabase db;
  auto elapsed = run_async([&](asio::any_io_executor ex) -> asio::awaitable<Clock::duration> {
    std::vector<std::unique_ptr<Connection>> conns;
    for (int i = 0; i < 4; ++i) conns.push_back(co_await connect(ex, db));
    auto sleep = [](Connection& c) -> asio::awaitable<void> { co_await c.query("sleep", "SELECT pg_sleep(0.5)"); };
    auto start = Clock::now();
    co_await (sleep(*conns[0]) && sleep(*conns[1]) && sleep(*conns[2]) && sleep(*conns[3]));
    co_return Clock::now() - start;
  });
  CHECK(elapsed >= 500ms);
  CHECK(elapsed < 1500ms);  // serial execution would take 2 s
}

TEST_CASE("the query observer sees every query with its outcome", "[db][connection]") {
  TestDatabase db;
  std::vector<std::pair<std::string, bool>> seen;
  auto observer = [&](std::string_view name, double seconds, bool ok) {
    CHECK(seconds >= 0);
    seen.emplace_back(std::string(name), ok);
  };
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await connect(ex, db, observer);
    co_await c->query("good", "SELECT 1");
    try {
      co_await c->query("bad", "SELECT * FROM missing");
    } catch (const Error&) {
    }
  });
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == std::pair<std::string, bool>{"good", true});
  CHECK(seen[1] == std::pair<std::string, bool>{"bad", false});
}

TEST_CASE("a second query on a busy connection is refused", "[db][connection]") {
  TestDatabase db;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await connect(ex, db);
    bool refused = false;
    auto second = [&]() -> asio::awaitable<void> {
      try {
        co_await c->query("second", "SELECT 2");
      } catch (const std::logic_error&) {
        refused = true;
      }
    };
    co_await (c->query("first", "SELECT pg_sleep(0.2)") && second());
    CHECK(refused);
  });
}

TEST_CASE("connect gives up after connect_timeout when the server never answers", "[db][connection]") {
  // A listening socket that never accepts: the kernel completes the TCP handshake, so libpq
  // waits forever for the server's first reply. Only our own deadline can end the connect.
  asio::io_context listener_ctx;
  asio::ip::tcp::acceptor silent(listener_ctx, {asio::ip::make_address("127.0.0.1"), 0});
  bbmd::config::Database cfg;
  cfg.host = "127.0.0.1";
  cfg.port = silent.local_endpoint().port();
  cfg.sslmode = "prefer";
  cfg.connecttimeout = 500ms;

  auto start = Clock::now();
  const auto kind = connect_error(cfg);
  auto elapsed = Clock::now() - start;
  CHECK(kind == ErrorKind::timeout);
  CHECK(elapsed >= 500ms);
  CHECK(elapsed < 2s);
}

TEST_CASE("connecting to a closed port fails as connection_lost", "[db][connection]") {
  const auto cfg = bbmd::test::refusing_database();
  const auto kind = connect_error(cfg);
  CHECK(kind == ErrorKind::connection_lost);
}

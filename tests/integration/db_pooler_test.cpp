// bbmd's db layer through a real PgBouncer in transaction pooling with its stock settings: the
// connection is accepted, every transaction carries its own settings, prepared statements are
// off or fall back when a transaction lands on another server session, and the schema migration
// lock stays with its holder.
#include <libpq-fe.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>

#include "db/connection.hpp"
#include "db/conninfo.hpp"
#include "db/transaction.hpp"
#include "integration/prepared_support.hpp"
#include "schema/migration_lock.hpp"
#include "support/async.hpp"
#include "support/pgbouncer.hpp"
#include "support/test_db.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using bbmd::db::Connection;
using bbmd::db::ErrorKind;
using bbmd::db::Statement;
using bbmd::test::async_poll_until;
using bbmd::test::connect_named;
using bbmd::test::log_and_count;
using bbmd::test::log_in_transaction;
using bbmd::test::pipeline_error;
using bbmd::test::PgBouncer;
using bbmd::test::run_async;
using bbmd::test::TestDatabase;
using Rows = std::vector<std::vector<std::string>>;

namespace {

struct ConnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
struct ResDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};

// A client of PgBouncer holding one server session in an open transaction, so that no other
// client gets that session meanwhile. Blocking libpq: its calls are short and the connection
// under test is idle while they run.
class SessionHolder {
 public:
  explicit SessionHolder(const bbmd::config::Database& through) {
    const std::string port = std::to_string(through.port);
    const char* keys[] = {"host", "port", "dbname", "user", "password", "sslmode", nullptr};
    const char* values[] = {through.host.c_str(), port.c_str(),  through.dbname.c_str(), through.user.c_str(),
                            through.password.c_str(), "disable", nullptr};
    conn_.reset(PQconnectdbParams(keys, values, 0));
    REQUIRE(PQstatus(conn_.get()) == CONNECTION_OK);
    exec("BEGIN");
  }
  // bbmd's prepared statements in the held server session.
  long long bbmd_statements() {
    return std::stoll(exec("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'bbmd\\_%'"));
  }

 private:
  std::string exec(const std::string& sql) {
    std::unique_ptr<PGresult, ResDeleter> r(PQexec(conn_.get(), sql.c_str()));
    const auto status = PQresultStatus(r.get());
    REQUIRE((status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK));
    return PQntuples(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "";
  }
  std::unique_ptr<PGconn, ConnDeleter> conn_;
};

// Holds server sessions until one holding bbmd's statements is found (the session the
// connection under test parsed them on); the others are let go.
std::unique_ptr<SessionHolder> hold_session_with_statements(const bbmd::config::Database& through) {
  std::vector<std::unique_ptr<SessionHolder>> others;
  for (int i = 0; i < 10; ++i) {
    auto holder = std::make_unique<SessionHolder>(through);
    if (holder->bbmd_statements() > 0) return holder;
    others.push_back(std::move(holder));
  }
  FAIL("no server session holds bbmd's prepared statements");
  return nullptr;
}

// A test database with `logged (n int)`, and PgBouncer in front of it.
struct Pooled {
  TestDatabase db;
  PgBouncer bouncer{db.config()};
  bbmd::config::Database through = bouncer.config(db.name());
  Pooled() { db.exec("CREATE TABLE logged (n int)"); }
};

}  // namespace

TEST_CASE("through PgBouncer in transaction pooling bbmd connects, and each transaction takes its settings",
          "[db][pooler]") {
  Pooled pooled;
  const auto& through = pooled.through;
  const auto settings = run_async([&](asio::any_io_executor ex) -> asio::awaitable<Rows> {
    auto c = co_await connect_named(ex, through, false);
    Rows out;
    co_await bbmd::db::in_transaction(*c, [&]() -> asio::awaitable<void> {
      const auto r = co_await c->query("settings", "SELECT current_setting('client_connection_check_interval'), "
                                                   "current_setting('tcp_user_timeout')");
      out.push_back({r.get_string(0, 0), r.get_string(0, 1)});
    });
    co_return out;
  });
  CHECK(settings == Rows{{"1s", "30000"}});

  // What bbmd used to send, and what stock PgBouncer says to it.
  auto with_options = bbmd::db::conn_params(through, "bbmd-test");
  with_options.keywords.emplace_back("options", "-c client_connection_check_interval=1000");
  CHECK_THROWS_WITH(run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
                      co_await Connection::connect(ex, with_options);
                    }),
                    Catch::Contains("unsupported startup parameter: options"));
}

TEST_CASE("through PgBouncer preparedstatements false leaves no named statement on any server session",
          "[db][pooler][prepared]") {
  Pooled pooled;
  const auto& through = pooled.through;
  const bool named = GENERATE(false, true);
  const auto seen = run_async([&](asio::any_io_executor ex) -> asio::awaitable<long long> {
    auto c = co_await connect_named(ex, through, named);
    for (int n = 0; n < 3; ++n) co_await c->pipeline("log", log_and_count(n));
    // Three held sessions cover every idle one the pool has (the probe's and the one just used).
    long long statements = 0;
    std::vector<std::unique_ptr<SessionHolder>> holders;
    for (int i = 0; i < 3; ++i) {
      holders.push_back(std::make_unique<SessionHolder>(through));
      statements += holders.back()->bbmd_statements();
    }
    co_return statements;
  });
  INFO("preparedstatements: " << named);
  if (named) {
    CHECK(seen == 2);  // the contrast: the same check sees named statements when they are on
  } else {
    CHECK(seen == 0);
  }
}

TEST_CASE("through PgBouncer a transaction on a session without the statements falls back to unnamed, once",
          "[db][pooler][prepared]") {
  Pooled pooled;
  const auto& through = pooled.through;
  struct Seen {
    std::int64_t counted = 0, held_where_it_runs_now = 0, still_held_by_the_first = 0;
  };
  const auto seen = run_async([&](asio::any_io_executor ex) -> asio::awaitable<Seen> {
    auto c = co_await connect_named(ex, through, true);
    co_await c->pipeline("log", log_and_count(1));
    auto first = hold_session_with_statements(through);  // so the next transaction runs elsewhere
    Seen out;
    out.counted = (co_await c->pipeline("log", log_and_count(2))).back().get_int(0, 0);
    co_await bbmd::db::in_transaction(*c, [&]() -> asio::awaitable<void> {
      out.held_where_it_runs_now =
          (co_await c->query("held", "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'bbmd\\_%'"))
              .get_int(0, 0);
    });
    out.still_held_by_the_first = first->bbmd_statements();
    co_return out;
  });
  CHECK(seen.counted == 1);
  CHECK(seen.held_where_it_runs_now == 0);  // resent unnamed, and unnamed since
  CHECK(seen.still_held_by_the_first == 2);
  CHECK(pooled.db.rows("SELECT n FROM logged ORDER BY n") == Rows{{"1"}, {"2"}});
}

TEST_CASE("through PgBouncer a statement missing inside an open transaction is prepared_statement_missing",
          "[db][pooler][prepared]") {
  Pooled pooled;
  const auto& through = pooled.through;
  const auto redone = run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::int64_t> {
    auto c = co_await connect_named(ex, through, true);
    co_await c->pipeline("log", log_and_count(1));
    auto first = hold_session_with_statements(through);
    co_await c->query("begin", "BEGIN");
    const auto e = co_await pipeline_error(*c, log_and_count(2));
    CHECK(e.kind() == ErrorKind::prepared_statement_missing);
    CHECK(e.index() == 0);
    co_await bbmd::db::roll_back(*c);
    co_return co_await log_in_transaction(*c, 2);
  });
  CHECK(redone == 1);
  CHECK(pooled.db.rows("SELECT n FROM logged ORDER BY n") == Rows{{"1"}, {"2"}});
}

TEST_CASE("through PgBouncer the schema migration lock stays with its holder until released, or its session ends",
          "[db][pooler][schema]") {
  Pooled pooled;
  const auto& through = pooled.through;
  // Only this test's database: ctest -j2 runs other tests' migration locks and sessions beside it.
  const std::string in_this_database =
      " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
  const auto waiting = [&] {
    return pooled.db.count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 1650617700 "
                           "AND NOT granted" + in_this_database);
  };
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto first = co_await bbmd::schema::MigrationLock::acquire(co_await connect_named(ex, through, false));
    // Idle in transaction without a snapshot: no CREATE INDEX CONCURRENTLY of the command waits for it.
    CHECK(pooled.db.count("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
                          "AND backend_xmin IS NOT NULL AND datname = current_database()") == 0);
    CHECK(pooled.db.count("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
                          "AND datname = current_database()") == 1);
    // Transactions of other clients in between: with a session lock one of them could be handed
    // the holder's server session and with it the lock.
    auto other = co_await connect_named(ex, through, false);
    for (int i = 0; i < 3; ++i) co_await other->query("between", "SELECT 1");
    bool second_held = false;
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          auto second = co_await bbmd::schema::MigrationLock::acquire(co_await connect_named(ex, through, false));
          second_held = true;
          co_await second.release();
        },
        asio::detached);
    CHECK(co_await async_poll_until([&] { return waiting() == 1; }, 10s));
    CHECK_FALSE(second_held);
    first.ensure_held("the test's next step");
    co_await first.release();
    CHECK(co_await async_poll_until([&] { return second_held; }, 10s));

    auto third = co_await bbmd::schema::MigrationLock::acquire(co_await connect_named(ex, through, false));
    CHECK(pooled.db.count("SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' "
                          "AND objid = 1650617700 AND granted" + in_this_database) == 1);
    bool lost = false;
    CHECK(co_await async_poll_until(
        [&] {
          try {
            third.ensure_held("migration 20260101000000_next");
          } catch (const bbmd::schema::MigrationLockLost& e) {
            lost = std::string(e.what()).find("stopped before migration 20260101000000_next") != std::string::npos;
            return true;
          }
          return false;
        },
        10s));
    CHECK(lost);
  });
}

TEST_CASE("through PgBouncer cancel() reaches the server process running the connection's transaction",
          "[db][pooler][cancel]") {
  Pooled pooled;
  const auto& through = pooled.through;
  const auto start = std::chrono::steady_clock::now();
  const auto kind = run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::optional<ErrorKind>> {
    using namespace boost::asio::experimental::awaitable_operators;
    auto sleeper = co_await connect_named(ex, through, false);
    std::optional<ErrorKind> out;
    // As a batch starts: the settings and the long statement in one round trip.
    const std::vector<Statement> statements{Statement{"BEGIN", {}}, sleeper->transaction_settings(),
                                            Statement{"SELECT pg_sleep(20)", {}}};
    auto sleep = [&]() -> asio::awaitable<void> {
      try {
        co_await sleeper->pipeline("sleep", statements);
      } catch (const bbmd::db::Error& e) {
        out = e.kind();
      }
      co_await bbmd::db::roll_back(*sleeper);
    };
    // Once the server runs it in the process the connection names: a cancel before would hit nothing.
    const auto sleeping = [&] {
      return pooled.db.count("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                             "AND query = 'SELECT pg_sleep(20)' AND pid = " +
                             std::to_string(sleeper->backend_pid())) == 1;
    };
    auto cancel_when_running = [&]() -> asio::awaitable<void> {
      CHECK(co_await async_poll_until(sleeping, 10s));
      co_await sleeper->cancel();
    };
    co_await (sleep() && cancel_when_running());
    co_return out;
  });
  CHECK(kind == ErrorKind::query_canceled);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}

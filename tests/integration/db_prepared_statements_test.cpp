// database.preparedstatements on a direct connection: false prepares nothing by name; true
// prepares pipeline statements, and when the session no longer holds them (DEALLOCATE ALL here,
// as when a transaction pooler hands the connection another server session) the connection
// falls back to unnamed statements without running anything twice or losing anything.
#include <catch2/catch.hpp>

#include "db/connection.hpp"
#include "db/transaction.hpp"
#include "integration/prepared_support.hpp"
#include "support/async.hpp"
#include "support/test_db.hpp"

namespace asio = boost::asio;
using bbmd::db::Connection;
using bbmd::db::ErrorKind;
using bbmd::db::Params;
using bbmd::db::Statement;
using bbmd::test::log_and_count;
using bbmd::test::log_in_transaction;
using bbmd::test::pipeline_error;
using bbmd::test::run_async;
using bbmd::test::TestDatabase;
using Rows = std::vector<std::vector<std::string>>;

namespace {

asio::awaitable<std::unique_ptr<Connection>> connect(asio::any_io_executor ex, const TestDatabase& db, bool named) {
  co_return co_await bbmd::test::connect_named(ex, db.config(), named);
}

asio::awaitable<std::int64_t> held_by_session(Connection& c) {
  co_return (co_await c.query("held", "SELECT count(*) FROM pg_prepared_statements")).get_int(0, 0);
}

}  // namespace

TEST_CASE("preparedstatements false prepares no pipeline statement by name, true prepares each once",
          "[db][prepared]") {
  TestDatabase db;
  db.exec("CREATE TABLE logged (n int)");
  const auto held = [&](bool named) {
    return run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::int64_t> {
      auto c = co_await connect(ex, db, named);
      for (int n = 0; n < 3; ++n) co_await c->pipeline("log", log_and_count(n));
      co_await bbmd::db::in_transaction(*c, [&]() -> asio::awaitable<void> { co_return; });
      co_return co_await held_by_session(*c);
    });
  };
  CHECK(bbmd::config::Database{}.preparedstatements == false);  // the registry's default
  CHECK(held(false) == 0);
  CHECK(held(true) == 3);  // log_and_count's two, and the transaction settings
  CHECK(db.rows("SELECT n, count(*) FROM logged GROUP BY n ORDER BY n") == Rows{{"0", "2"}, {"1", "2"}, {"2", "2"}});
}

TEST_CASE("a statement missing from the session: a pipeline outside a transaction runs again unnamed, once",
          "[db][prepared]") {
  TestDatabase db;
  db.exec("CREATE TABLE logged (n int)");
  struct Seen {
    std::int64_t counted = 0, counted_in_transaction = 0, held_after = 0;
  };
  const auto seen = run_async([&](asio::any_io_executor ex) -> asio::awaitable<Seen> {
    auto c = co_await connect(ex, db, true);
    co_await c->pipeline("log", log_and_count(1));
    co_await c->query("swap_session", "DEALLOCATE ALL");
    Seen out;
    out.counted = (co_await c->pipeline("log", log_and_count(2))).back().get_int(0, 0);
    // A pipeline with its own BEGIN: the aborted transaction is rolled back before it goes again.
    auto in_transaction = log_and_count(3);
    in_transaction.insert(in_transaction.begin(), Statement{"BEGIN", {}});
    in_transaction.push_back(Statement{"COMMIT", {}});
    out.counted_in_transaction = (co_await c->pipeline("log", in_transaction))[2].get_int(0, 0);
    out.held_after = co_await held_by_session(*c);
    co_return out;
  });
  CHECK(seen.counted == 1);
  CHECK(seen.counted_in_transaction == 1);
  CHECK(seen.held_after == 0);  // unnamed from then on
  CHECK(db.rows("SELECT n FROM logged ORDER BY n") == Rows{{"1"}, {"2"}, {"3"}});
}

TEST_CASE("a statement missing inside a transaction an earlier round trip opened is prepared_statement_missing",
          "[db][prepared]") {
  TestDatabase db;
  db.exec("CREATE TABLE logged (n int)");
  const auto redone = run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::int64_t> {
    auto c = co_await connect(ex, db, true);
    co_await c->pipeline("log", log_and_count(1));
    co_await c->query("swap_session", "DEALLOCATE ALL");
    co_await c->query("begin", "BEGIN");
    const auto e = co_await pipeline_error(*c, log_and_count(2));
    CHECK(e.kind() == ErrorKind::prepared_statement_missing);
    CHECK(e.index() == 0);
    CHECK(e.sqlstate() == "26000");
    CHECK_FALSE(e.breaks_connection());
    CHECK_THAT(e.what(), Catch::Contains("does not exist") && Catch::Contains("run the transaction again"));
    co_await bbmd::db::roll_back(*c);
    // Redone, as the caller is told to: the connection now parses where it runs.
    co_return co_await log_in_transaction(*c, 2);
  });
  CHECK(redone == 1);
  CHECK(db.rows("SELECT n FROM logged ORDER BY n") == Rows{{"1"}, {"2"}});
}

TEST_CASE("a pipeline that committed before its missing statement is not sent again", "[db][prepared]") {
  TestDatabase db;
  db.exec("CREATE TABLE logged (n int)");
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await connect(ex, db, true);
    co_await c->pipeline("log", log_and_count(1));
    co_await c->query("swap_session", "DEALLOCATE ALL");
    std::vector<Statement> committing{Statement{"BEGIN", {}}, Statement{"INSERT INTO logged VALUES (40)", {}},
                                      Statement{"COMMIT", {}}};
    const auto more = log_and_count(41);
    committing.insert(committing.end(), more.begin(), more.end());
    const auto e = co_await pipeline_error(*c, committing);
    CHECK(e.kind() == ErrorKind::prepared_statement_missing);
    CHECK(e.index() == 3);
  });
  CHECK(db.rows("SELECT n FROM logged ORDER BY n") == Rows{{"1"}, {"40"}});
}

TEST_CASE("a 26000 of the statement's own making is an ordinary error, and names stay in use", "[db][prepared]") {
  TestDatabase db;
  db.exec("CREATE TABLE logged (n int)");
  db.exec("CREATE FUNCTION run_missing(n int) RETURNS int LANGUAGE plpgsql AS "
          "$$ BEGIN EXECUTE 'EXECUTE nobody_prepared_this(' || n || ')'; RETURN n; END $$");
  const auto held = run_async([&](asio::any_io_executor ex) -> asio::awaitable<std::int64_t> {
    auto c = co_await connect(ex, db, true);
    co_await c->pipeline("log", log_and_count(1));
    const std::vector<Statement> missing{Statement{"SELECT run_missing($1)", Params{1}}};
    for (int run = 0; run < 2; ++run) {  // parsed in the first run, under its own name in the second
      const auto e = co_await pipeline_error(*c, missing);
      CHECK(e.kind() == ErrorKind::other);
      CHECK(e.sqlstate() == "26000");
      CHECK_THAT(e.what(), Catch::Contains("nobody_prepared_this"));
    }
    co_await c->pipeline("log", log_and_count(2));
    co_return co_await held_by_session(*c);
  });
  CHECK(held == 3);
}

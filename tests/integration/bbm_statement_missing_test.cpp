// A batch whose bookkeeping statement is missing from the server session (as when a transaction
// pooler hands the connection another session mid-way, with database.preparedstatements true):
// the batch is redone once, unnamed, with every row changed once and no attempt counted.
#include <catch2/catch.hpp>

#include "bbm/store/pg_store.hpp"
#include "db/connection.hpp"
#include "db/conninfo.hpp"
#include "support/async.hpp"
#include "support/runner_fixture.hpp"

namespace asio = boost::asio;
using bbmd::bbm::BatchOutcome;
using bbmd::bbm::LeaseOutcome;
using bbmd::test::TestDatabase;
using Rows = std::vector<std::vector<std::string>>;

TEST_CASE("a batch whose bookkeeping statement the session lacks is redone once, counting no attempt",
          "[bbm][batch][prepared]") {
  TestDatabase db;
  const auto id = bbmd::test::queue_over_t(db, 100, 50);
  struct Seen {
    int kind = -1;
    std::int64_t rows = 0;
  };
  const auto seen = bbmd::test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<Seen> {
    auto params = bbmd::db::conn_params(db.config(), "bbmd-test");
    params.named_statements = true;
    auto conn = co_await bbmd::db::Connection::connect(ex, params);
    bbmd::bbm::PgStore store(*conn);
    const bbmd::bbm::WorkRegistry registry;
    const auto v = co_await bbmd::test::validated(*conn, id, registry);
    const auto lease_options = bbmd::test::runner_options().lease;
    const auto first = co_await store.lease(v.m, v.target, 50, lease_options);
    REQUIRE(first.kind == LeaseOutcome::Kind::leased);
    co_await store.run_batch(v.m, v.target, first.job, {}, nullptr);  // every statement now has a name
    const auto second = co_await store.lease(v.m, v.target, 50, lease_options);
    REQUIRE(second.kind == LeaseOutcome::Kind::leased);
    // The fence and the work keep their names; the bookkeeping's goes, as on another session.
    const auto finish = co_await conn->query(
        "finish_name", "SELECT name FROM pg_prepared_statements WHERE statement LIKE 'UPDATE background_migration_jobs "
                       "SET status = 2,%'");
    REQUIRE(finish.rows() == 1);
    co_await conn->query("swap_session", "DEALLOCATE " + conn->quote_identifier(finish.get_string(0, 0)));
    const auto out = co_await store.run_batch(v.m, v.target, second.job, {}, nullptr);
    co_return Seen{static_cast<int>(out.kind), out.rows};
  });
  CHECK(seen.kind == static_cast<int>(BatchOutcome::Kind::committed));
  CHECK(seen.rows == 50);
  CHECK(db.rows("SELECT min_value, max_value, status, attempts, rows_affected, failure_error_code IS NULL "
                "FROM background_migration_jobs ORDER BY id") ==
        Rows{{"1", "50", "2", "1", "50", "t"}, {"51", "100", "2", "1", "50", "t"}});
  CHECK(db.count("SELECT count(*) FROM t WHERE b = a") == 100);
}

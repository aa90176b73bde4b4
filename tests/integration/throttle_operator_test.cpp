// The operator's controls and the Throttle around all indicators: SQL check and flag file hold
// and release; a failing indicator is logged, counted and treated as go; answers are cached for
// checkinterval; from_config wires what the config enables.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "support/async.hpp"
#include "support/poll.hpp"
#include "support/process.hpp"
#include "support/test_db.hpp"
#include "throttle/indicators.hpp"
#include "throttle/throttle.hpp"
#include "throttle_test_support.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using bbmd::test::kNoTable;
using bbmd::test::run_async;
using bbmd::test::TestDatabase;
using bbmd::throttle::Context;
using bbmd::throttle::Indicator;
using bbmd::throttle::Stop;

namespace {

// Counts its calls; answers stop or go, or throws, as the test says.
class Scripted final : public Indicator {
 public:
  enum class Mode { go, stop, fail };
  Mode mode = Mode::go;
  int calls = 0;
  [[nodiscard]] std::string_view name() const override { return "scripted"; }
  asio::awaitable<std::optional<Stop>> check(bbmd::db::Connection&, const Context&) override {
    ++calls;
    if (mode == Mode::fail) throw std::runtime_error("scripted failure");
    if (mode == Mode::stop) co_return Stop{"scripted", "told to"};
    co_return std::nullopt;
  }
};

// Whether the check threw. Catch's CHECK_THROWS cannot wrap a co_await: GCC 12 evaluates a
// co_await inside the macro's expression more than once.
asio::awaitable<bool> throws(Indicator& indicator, bbmd::db::Connection& conn, const Context& ctx) {
  try {
    (void)co_await indicator.check(conn, ctx);
  } catch (const std::exception&) {
    co_return true;
  }
  co_return false;
}

std::vector<std::unique_ptr<Indicator>> list_of(std::unique_ptr<Indicator> a, std::unique_ptr<Indicator> b = {}) {
  std::vector<std::unique_ptr<Indicator>> v;
  v.push_back(std::move(a));
  if (b) v.push_back(std::move(b));
  return v;
}

}  // namespace

TEST_CASE("SQL check: holds while the operator's query returns true, releases when false", "[throttle][operator]") {
  TestDatabase db;
  db.exec("CREATE TABLE maintenance (on_now boolean); INSERT INTO maintenance VALUES (false)");
  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(db.config());
    auto check = bbmd::throttle::make_sql_check("SELECT on_now FROM maintenance", 1s);
    const auto go_1 = co_await check->check(*conn, kNoTable);
    CHECK_FALSE(go_1);
    db.exec("UPDATE maintenance SET on_now = true");
    const auto answer = co_await check->check(*conn, kNoTable);
    REQUIRE(answer);
    CHECK(answer->reason == "sql_check");
    CHECK_THAT(answer->detail, Catch::Contains("SELECT on_now FROM maintenance"));
    db.exec("UPDATE maintenance SET on_now = false");
    const auto go_2 = co_await check->check(*conn, kNoTable);
    CHECK_FALSE(go_2);
    // The statement_timeout was local to the check: the session's own setting is untouched.
    const auto r = co_await conn->query("show", "SELECT current_setting('statement_timeout') AS t");
    CHECK(r.get_string(0, "t") == "0");
  });
}

TEST_CASE("flag file: holds while the file exists, releases when it is removed", "[throttle][operator]") {
  TestDatabase db;
  bbmd::test::TempDir dir;
  const auto flag = dir.path() / "throttle";
  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(db.config());
    auto check = bbmd::throttle::make_flag_file(flag);
    const auto go_3 = co_await check->check(*conn, kNoTable);
    CHECK_FALSE(go_3);
    std::ofstream(flag) << "";
    const auto answer = co_await check->check(*conn, kNoTable);
    REQUIRE(answer);
    CHECK(answer->reason == "flag_file");
    CHECK(answer->detail == "flag file " + flag.string() + " exists (stops while it exists)");
    std::filesystem::remove(flag);
    const auto go_4 = co_await check->check(*conn, kNoTable);
    CHECK_FALSE(go_4);
  });
}

TEST_CASE("a failing indicator is counted and treated as go: later indicators still decide", "[throttle][operator]") {
  TestDatabase db;
  bbmd::test::TempDir dir;
  const auto flag = dir.path() / "flag";
  bbmd::metrics::Metrics metrics;
  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(db.config());
    bbmd::throttle::Throttle bad_sql(list_of(bbmd::throttle::make_sql_check("SELECT nope FROM nowhere", 1s),
                                             bbmd::throttle::make_flag_file(flag)),
                                     metrics);
    const auto go_5 = co_await bad_sql.check(*conn, kNoTable);
    CHECK_FALSE(go_5);
    std::ofstream(flag) << "";
    const auto answer = co_await bad_sql.check(*conn, kNoTable);
    REQUIRE(answer);
    CHECK(answer->reason == "flag_file");

    // A query slower than its timeout is an error too, and costs about the timeout, not more.
    bbmd::throttle::Throttle slow(list_of(bbmd::throttle::make_sql_check("SELECT pg_sleep(10) IS NOT NULL", 200ms)),
                                  metrics);
    const auto started = std::chrono::steady_clock::now();
    const auto go_6 = co_await slow.check(*conn, kNoTable);
    CHECK_FALSE(go_6);
    CHECK(std::chrono::steady_clock::now() - started < 5s);

    // The connection is still fine for the batch.
    const auto r = co_await conn->query("after", "SELECT 1 AS one");
    CHECK(r.get_int(0, "one") == 1);
  });
  const auto text = metrics.scrape();
  CHECK_THAT(text, Catch::Contains("registry_bbm_throttle_indicator_errors_total{indicator=\"sql_check\"} 3"));
}

TEST_CASE("each verdict sets registry_bbm_throttled: 1 while a stop holds some migration, 0 once all go",
          "[throttle][operator]") {
  TestDatabase db;
  bbmd::test::TempDir dir;
  const auto flag = dir.path() / "flag";
  bbmd::metrics::Metrics metrics;
  const auto throttled = [&](std::string_view reason) {
    const std::string prefix = "registry_bbm_throttled{reason=\"" + std::string(reason) + "\"} ";
    const auto text = metrics.scrape();
    const auto at = text.find(prefix);
    return at == std::string::npos ? std::string("absent") : text.substr(at + prefix.size(), 1);
  };
  const Context first{1, 0, "", 0};
  const Context second{2, 0, "", 0};
  CHECK(throttled("flag_file") == "0");
  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(db.config());
    bbmd::throttle::Throttle throttle(list_of(bbmd::throttle::make_flag_file(flag)), metrics, 1h);
    std::ofstream(flag) << "";
    const auto stop_1 = co_await throttle.check(*conn, first);
    const auto stop_2 = co_await throttle.check(*conn, second);
    CHECK(stop_1);
    CHECK(stop_2);
    CHECK(throttled("flag_file") == "1");
    CHECK(throttled("wal_rate") == "0");
    std::filesystem::remove(flag);
    const auto go_1 = co_await throttle.check(*conn, first);
    CHECK_FALSE(go_1);
    CHECK(throttled("flag_file") == "1");  // the second migration is still held
    const auto go_2 = co_await throttle.check(*conn, second);
    CHECK_FALSE(go_2);
    CHECK(throttled("flag_file") == "0");

    // A stop nobody checks again (the migration was paused) stops counting once it expires.
    bbmd::throttle::Throttle brief(list_of(bbmd::throttle::make_flag_file(flag)), metrics, 2s);
    std::ofstream(flag) << "";
    const auto stop_3 = co_await brief.check(*conn, first);
    CHECK(stop_3);
    CHECK(throttled("flag_file") == "1");
  });
  CHECK(bbmd::test::poll_until([&] { return throttled("flag_file") == "0"; }, 20s));
}

TEST_CASE("cached indicators reuse an answer for the interval, per table when asked", "[throttle][operator]") {
  TestDatabase db;
  auto now = std::chrono::steady_clock::now();
  const bbmd::throttle::Now clock = [&] { return now; };
  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(db.config());
    auto owned = std::make_unique<Scripted>();
    Scripted& inner = *owned;
    auto cached = bbmd::throttle::cached(std::move(owned), 1s, bbmd::throttle::CacheScope::table, clock);
    const Context t1{.migration_id = 1, .table_oid = 11, .table_name = "a"};
    const Context t2{.migration_id = 2, .table_oid = 22, .table_name = "b"};

    auto first = co_await cached->check(*conn, t1);
    CHECK_FALSE(first);
    inner.mode = Scripted::Mode::stop;
    auto reused = co_await cached->check(*conn, t1);
    CHECK_FALSE(reused);  // within the interval: the cached go
    CHECK(inner.calls == 1);
    auto other_table = co_await cached->check(*conn, t2);
    CHECK(other_table);  // another table asks for itself
    CHECK(inner.calls == 2);
    now += 1s;
    auto expired = co_await cached->check(*conn, t1);
    CHECK(expired);  // expired: asked again
    CHECK(inner.calls == 3);

    // Errors are cached too, so a broken check costs once per interval.
    now += 1s;
    inner.mode = Scripted::Mode::fail;
    const bool threw = co_await throws(*cached, *conn, t1);
    CHECK(threw);
    const bool threw_again = co_await throws(*cached, *conn, t1);
    CHECK(threw_again);
    CHECK(inner.calls == 4);
  });
}

TEST_CASE("Throttle::from_config builds what the config enables", "[throttle][operator]") {
  TestDatabase db;
  bbmd::test::TempDir dir;
  bbmd::metrics::Metrics metrics;
  bbmd::config::Config cfg;
  auto& t = cfg.backgroundmigrations.throttle;

  SECTION("everything off: an empty throttle") {
    t.walarchive.enabled = t.replicationlag.enabled = t.slotretention.enabled = false;
    t.autovacuum.enabled = t.lockwaiters.enabled = t.oldesttransaction.enabled = false;
    CHECK(bbmd::throttle::Throttle::from_config(cfg, metrics).empty());
  }
  SECTION("defaults go on a quiet server; the flag file and lock waiters stop") {
    t.flagfile = (dir.path() / "flag").string();
    auto throttle = bbmd::throttle::Throttle::from_config(cfg, metrics);
    CHECK_FALSE(throttle.empty());
    run_async([&](auto) -> asio::awaitable<void> {
      auto conn = co_await bbmd::test::connect_to(db.config());
      Context ctx{.migration_id = 1, .table_oid = 1, .table_name = "public.t"};
      const auto go_8 = co_await throttle.check(*conn, ctx);
      CHECK_FALSE(go_8);
      ctx.waiters_on_last_batch = 1;
      auto answer = co_await throttle.check(*conn, ctx);
      REQUIRE(answer);
      CHECK(answer->reason == "lock_waiters");
      std::ofstream(dir.path() / "flag") << "";
      answer = co_await throttle.check(*conn, ctx);
      REQUIRE(answer);
      CHECK(answer->reason == "flag_file");  // asked first: it costs no round trip
    });
    // Every indicator's error counter exists from the start; none counted an error.
    static const std::regex counted(R"(registry_bbm_throttle_indicator_errors_total\{[^}]*\} [1-9])");
    CHECK_FALSE(std::regex_search(metrics.scrape(), counted));
  }
}

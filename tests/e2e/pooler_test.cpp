// The real bbmd binary through a real PgBouncer in transaction pooling with its stock settings, as
// registry fleets run it: `serve` with two processes of two workers, `/readyz`, `background-migrate
// run`, `status` and `pause`, and `database migrate up` (two at once never both apply).
#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "e2e/e2e_helpers.hpp"
#include "schema/own_schema.hpp"
#include "support/pgbouncer.hpp"

using namespace std::chrono_literals;
using bbmd::e2e::contains;
using bbmd::e2e::http_get;
using bbmd::e2e::log_lines;
using bbmd::e2e::show;
using bbmd::test::BbmdProcess;
using bbmd::test::ConfigFile;
using bbmd::test::PgBouncer;
using bbmd::test::poll_until;
using bbmd::test::run_bbmd;
using bbmd::test::TestDatabase;
using Rows = std::vector<std::vector<std::string>>;

namespace {

constexpr const char* kWorker = "registry.bbm.Worker";
constexpr const char* kDb = "bbmd.db";
constexpr const char* kMissingStatement =
    "prepared statement missing on the server session; running unnamed statements on this connection from now on "
    "(behind a transaction pooler, set database.preparedstatements: false)";

}  // namespace

TEST_CASE("through PgBouncer two serve processes of two workers migrate a table, every row changed once",
          "[e2e][pooler]") {
  const std::string prepared = GENERATE("false", "true");
  INFO("database.preparedstatements: " << prepared);
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 3000);
  const PgBouncer bouncer(db.config());
  // Four jobs on the table at once, so all four workers lease, run and commit side by side.
  ConfigFile cfg(bouncer.config(db.name()), {{"database.backgroundmigrations.workers", "2"},
                                             {"database.backgroundmigrations.maxjobspertable", "4"},
                                             {"database.pool.maxopen", "4"},
                                             {"database.preparedstatements", prepared},
                                             {"database.backgroundmigrations.listen", "false"}});
  cfg.dir().write("functions/paced.sql", bbmd::e2e::sleepy_touch_sql("0.02"));
  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000001_through_pgbouncer", "paced", 3000, 50);

  BbmdProcess a({"serve", cfg.path()});
  BbmdProcess b({"serve", cfg.path()});
  REQUIRE(a.wait_for_log("bbmd serving", 10s));
  REQUIRE(b.wait_for_log("bbmd serving", 10s));
  for (auto* serve : {&a, &b}) {
    const auto port = bbmd::test::debug_port(serve->err());
    REQUIRE(port);
    const auto ready = http_get(*port, "/readyz");
    INFO(ready.body);
    CHECK(ready.status == 200);
  }

  const bool finished = poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 90s);
  INFO("pgbouncer:\n" << bouncer.log() << "\nserve a:\n" << a.err() << "\nserve b:\n" << b.err());
  REQUIRE(finished);
  CHECK(db.rows("SELECT count(*), count(*) FILTER (WHERE changes = 1), count(*) FILTER (WHERE b = a) FROM t") ==
        Rows{{"3000", "3000", "3000"}});
  // Every job committed at its first attempt: a swapped server session never cost one.
  CHECK(db.rows("SELECT count(*), count(*) FILTER (WHERE status = 2 AND attempts = 1), sum(rows_affected) "
                "FROM background_migration_jobs") == Rows{{"60", "60", "3000"}});
  CHECK(db.count("SELECT count(*) FROM background_migration_jobs x JOIN background_migration_jobs y "
                 "ON x.id < y.id AND x.min_value <= y.max_value AND y.min_value <= x.max_value") == 0);
  std::set<std::string> owners;
  for (const auto& r : db.rows("SELECT DISTINCT lease_owner FROM background_migration_jobs")) owners.insert(r[0]);
  CHECK(owners.size() == 4);  // both processes, both workers each
  for (auto* serve : {&a, &b}) {
    CHECK(log_lines(serve->err(), kWorker, "job failed").empty());
    CHECK(log_lines(serve->err(), kWorker, "worker pass failed").empty());
    // Named statements only when asked for; then at most one fallback per connection.
    const auto fallbacks = log_lines(serve->err(), kDb, kMissingStatement).size();
    if (prepared == "false") CHECK(fallbacks == 0);
    CHECK(fallbacks <= 5);  // once per connection at most: the pool's four and the readiness check's
  }
  a.signal(SIGTERM);
  b.signal(SIGTERM);
  CHECK(a.wait_for_exit(10s) == 0);
  CHECK(b.wait_for_exit(10s) == 0);
}

TEST_CASE("through PgBouncer background-migrate status, pause, resume and run work", "[e2e][pooler][cli]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 300);
  const PgBouncer bouncer(db.config());
  ConfigFile cfg(bouncer.config(db.name()));
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000002_run_through_pgbouncer", "touch", 300, 100);

  const auto status = run_bbmd({"background-migrate", "status", "--json", cfg.path()});
  INFO(show(status));
  REQUIRE(status.exit_code == 0);
  const auto listed = nlohmann::json::parse(status.out)["migrations"];
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["name"] == "20260101000002_run_through_pgbouncer");
  CHECK(listed[0]["status"] == "active");

  const auto pause = run_bbmd({"background-migrate", "pause", "20260101000002_run_through_pgbouncer", cfg.path()});
  INFO(show(pause));
  CHECK(pause.exit_code == 0);
  CHECK(pause.out == "paused 1 batched background migration\n");
  CHECK(bbmd::e2e::migration_status(db, id) == "0");
  const auto resume = run_bbmd({"background-migrate", "resume", cfg.path()});
  INFO(show(resume));
  CHECK(resume.out == "resumed 1 batched background migration\n");
  CHECK(bbmd::e2e::migration_status(db, id) == "1");

  const auto run = run_bbmd({"background-migrate", "run", cfg.path()});
  INFO(show(run) << "\npgbouncer:\n" << bouncer.log());
  REQUIRE(run.exit_code == 0);
  CHECK(contains(run.out, "20260101000002_run_through_pgbouncer: 100.0% (3/3 jobs finished, "));
  CHECK(bbmd::e2e::migration_status(db, id) == "2");
  CHECK(db.count("SELECT count(*) FROM t WHERE changes = 1 AND b = a") == 300);
}

TEST_CASE("through PgBouncer database migrate up applies the schema, and two at once never both apply a migration",
          "[e2e][pooler][schema]") {
  TestDatabase db;
  db.exec("CREATE TABLE applied_log (by_pid int NOT NULL)");
  const PgBouncer bouncer(db.config());
  bbmd::test::TempDir dirs;
  // Slow enough that the two commands overlap; each application leaves a row in applied_log.
  dirs.write("pre/20260201000000_slow_once.up.sql",
             "INSERT INTO applied_log SELECT pg_backend_pid(); SELECT pg_sleep(0.5);");
  dirs.write("pre/20260201000000_slow_once.down.sql", "SELECT 1;");
  ConfigFile cfg(bouncer.config(db.name()),
                 {{"database.migrations.pre", nlohmann::json((dirs.path() / "pre").string()).dump()},
                  {"database.migrations.post", nlohmann::json((dirs.path() / "post").string()).dump()}});

  BbmdProcess a({"database", "migrate", "up", cfg.path()});
  BbmdProcess b({"database", "migrate", "up", cfg.path()});
  const auto a_code = a.wait_for_exit(60s);
  const auto b_code = b.wait_for_exit(60s);
  INFO("a:\n" << a.out() << a.err() << "\nb:\n" << b.out() << b.err() << "\npgbouncer:\n" << bouncer.log());
  CHECK(a_code == 0);
  CHECK(b_code == 0);
  CHECK(db.count("SELECT count(*) FROM applied_log") == 1);
  const auto own = static_cast<long long>(bbmd::schema::own_migrations().size());
  CHECK(db.count("SELECT count(*) FROM bbmd_schema_migrations") == own + 1);
  // One of them applied everything, the other found nothing left to do.
  const bool a_applied = contains(a.out(), "applying pre 20260201000000_slow_once");
  const bool b_applied = contains(b.out(), "applying pre 20260201000000_slow_once");
  CHECK(a_applied != b_applied);
  CHECK(contains(a_applied ? b.out() : a.out(), "applied 0 pre-deployment migrations and 0 post-deployment"));
  CHECK(db.scalar("SELECT to_regclass('public.batched_background_migrations') IS NOT NULL") == "t");

  // And once more afterwards: nothing left behind (a lock, a setting) that makes it wait or fail.
  const auto again = run_bbmd({"database", "migrate", "up", cfg.path()}, 30s);
  INFO(show(again));
  CHECK(again.exit_code == 0);
  CHECK(contains(again.out, "applied 0 pre-deployment migrations and 0 post-deployment"));
}

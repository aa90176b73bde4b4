// End-to-end admin API on the debug listener: reads, pause/resume/retry by id, every status code,
// size bounds, and the token staying out of the logs.
#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/e2e_helpers.hpp"
#include "e2e/ops_helpers.hpp"

using namespace std::chrono_literals;
using bbmd::ops::http_request;
using bbmd::test::ConfigFile;
using bbmd::test::poll_until;
using bbmd::test::TestDatabase;

namespace {

constexpr const char* kToken = "s3cret-admin-token-4711";
const std::string kAuth = std::string("Authorization: Bearer ") + kToken + "\r\n";

std::unique_ptr<bbmd::test::BbmdProcess> serve_with_env(const ConfigFile& cfg,
                                                        const std::map<std::string, std::string>& env) {
  auto p = std::make_unique<bbmd::test::BbmdProcess>(std::vector<std::string>{"serve", cfg.path()}, env);
  if (!p->wait_for_log("\"msg\":\"bbmd serving\"", 10s)) FAIL("bbmd serve did not start:\n" + p->err());
  return p;
}

std::string path_of(std::int64_t id, const std::string& action = "") {
  return "/api/v1/migrations/" + std::to_string(id) + (action.empty() ? "" : "/" + action);
}

}  // namespace

TEST_CASE("admin API reads migrations and pauses, resumes and retries them by id", "[e2e][ops][admin]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 2000);
  ConfigFile cfg(db);
  cfg.dir().write("functions/slow_touch.sql", bbmd::e2e::sleepy_touch_sql("0.2"));
  const auto running = bbmd::e2e::queue_t_migration(db, "20260101000001_slow_touch", "slow_touch", 2000, 50);
  // A failed migration whose work function this build lacks: after a retry it is held, so its
  // reset job attempts stay visible instead of being used up again at once.
  bbmd::test::MigrationRow failed_row;
  failed_row.name = "20260101000002_failed";
  failed_row.job_signature_name = "not_in_this_build";
  failed_row.max_value = 2000;
  failed_row.status = 3;
  const auto failed = bbmd::test::queue_migration(db, failed_row);
  db.exec("UPDATE batched_background_migrations SET failure_error_code = 4, last_error = 'boom' WHERE id = " +
          std::to_string(failed));
  db.exec("INSERT INTO background_migration_jobs (batched_background_migration_id, min_value, max_value, status, "
          "attempts, failure_error_code) VALUES (" + std::to_string(failed) + ", 1, 50, 3, 3, 11)");

  auto serve = serve_with_env(cfg, {{"REGISTRY_HTTP_DEBUG_ADMIN_TOKEN", kToken}});
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port.has_value());

  SECTION("GET lists and shows migrations as JSON") {
    REQUIRE(poll_until([&] { return db.count("SELECT count(*) FROM background_migration_jobs WHERE status = 2") > 0; },
                       30s));
    const auto all = http_request(*port, "GET", "/api/v1/migrations");
    REQUIRE(all.status == 200);
    CHECK(all.headers.find("application/json") != std::string::npos);
    const auto list = nlohmann::json::parse(all.body)["migrations"];
    REQUIRE(list.size() == 2);
    for (const auto* key : {"id", "name", "status", "progress_percent", "rows_per_second", "eta_seconds",
                            "hold_reason", "last_error", "jobs_finished", "jobs_total"}) {
      INFO(key);
      CHECK(list[0].contains(key));
    }
    const auto one = http_request(*port, "GET", path_of(running));
    REQUIRE(one.status == 200);
    const auto j = nlohmann::json::parse(one.body);
    CHECK(j["name"] == "20260101000001_slow_touch");
    CHECK(j["progress_percent"].get<double>() > 0);
    CHECK(nlohmann::json::parse(http_request(*port, "GET", path_of(failed)).body)["last_error"] == "boom");
    CHECK(http_request(*port, "GET", path_of(987654)).status == 404);
    CHECK(http_request(*port, "GET", "/api/v1/migrations/abc").status == 404);
    CHECK(http_request(*port, "POST", "/api/v1/migrations", kAuth).status == 405);
    CHECK(http_request(*port, "GET", path_of(running, "pause")).status == 405);
  }

  SECTION("POST needs the bearer token: 401 without, 403 wrong, 404 unknown id") {
    const auto none = http_request(*port, "POST", path_of(running, "pause"));
    CHECK(none.status == 401);
    CHECK(none.headers.find("WWW-Authenticate: Bearer") != std::string::npos);
    CHECK(http_request(*port, "POST", path_of(running, "pause"), "Authorization: Bearer wrong\r\n").status == 403);
    CHECK(http_request(*port, "POST", path_of(running, "pause"), "Authorization: Basic eDp5\r\n").status == 401);
    CHECK(http_request(*port, "POST", path_of(987654, "pause"), kAuth).status == 404);
    CHECK(http_request(*port, "POST", path_of(running, "explode"), kAuth).status == 404);
    CHECK(bbmd::e2e::migration_status(db, running) != "0");  // nothing above changed it
  }

  SECTION("pause and resume change the row; a wrong state answers 409") {
    const auto paused = http_request(*port, "POST", path_of(running, "pause"), kAuth);
    REQUIRE(paused.status == 200);
    CHECK(nlohmann::json::parse(paused.body)["status"] == "paused");
    CHECK(bbmd::e2e::migration_status(db, running) == "0");
    CHECK(http_request(*port, "POST", path_of(running, "pause"), kAuth).status == 409);
    CHECK(http_request(*port, "POST", path_of(running, "retry"), kAuth).status == 409);
    const auto resumed = http_request(*port, "POST", path_of(running, "resume"), kAuth);
    REQUIRE(resumed.status == 200);
    CHECK(bbmd::e2e::migration_status(db, running) != "0");
    CHECK(http_request(*port, "POST", path_of(running, "resume"), kAuth).status == 409);
  }

  SECTION("retry turns a failed migration active and gives its failed jobs fresh attempts") {
    const auto retried = http_request(*port, "POST", path_of(failed, "retry"), kAuth);
    REQUIRE(retried.status == 200);
    CHECK(db.rows("SELECT status, failure_error_code IS NULL, last_error IS NULL FROM batched_background_migrations "
                  "WHERE id = " + std::to_string(failed)) ==
          std::vector<std::vector<std::string>>{{"1", "t", "t"}});
    CHECK(db.scalar("SELECT attempts FROM background_migration_jobs WHERE batched_background_migration_id = " +
                    std::to_string(failed)) == "0");
  }

  SECTION("request header and body sizes are bounded") {
    CHECK(http_request(*port, "POST", path_of(running, "pause"), kAuth, std::string(100 * 1024, 'x')).status == 413);
    CHECK(http_request(*port, "GET", "/api/v1/migrations", "X-Big: " + std::string(16 * 1024, 'y') + "\r\n").status ==
          431);
  }

  serve->signal(SIGTERM);
  const auto exit_code = serve->wait_for_exit(30s);
  INFO(serve->err());
  REQUIRE(exit_code == 0);
  CHECK(serve->err().find(kToken) == std::string::npos);
}

TEST_CASE("admin API without a configured token refuses every action with 403", "[e2e][ops][admin]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 100);
  ConfigFile cfg(db, {{"database.backgroundmigrations.enabled", "false"}});
  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000001_touch", "touch", 100, 50);
  auto serve = bbmd::e2e::start_serve(cfg);
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port.has_value());
  const auto r = http_request(*port, "POST", path_of(id, "pause"), kAuth);
  CHECK(r.status == 403);
  CHECK(r.body.find("disabled") != std::string::npos);
  CHECK(bbmd::e2e::migration_status(db, id) == "1");
  CHECK(http_request(*port, "GET", path_of(id)).status == 200);  // reads stay open
}

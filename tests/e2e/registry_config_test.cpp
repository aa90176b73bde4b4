// The registry's own config.yml (tests/fixtures/registry/config.yml), unchanged, drives bbmd:
// pause, resume and status with it, REGISTRY_CONFIGURATION_PATH instead of an argument, log.fields
// on every line, and a typo inside bbmd's own section refused; no secret of it is ever printed.
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "e2e/e2e_helpers.hpp"

using namespace std::chrono_literals;
using bbmd::test::CommandResult;
using bbmd::test::run_bbmd;
using bbmd::test::TestDatabase;
using Env = std::map<std::string, std::string>;
using Rows = std::vector<std::vector<std::string>>;

namespace {

const std::string kFixture = std::string(BBMD_SOURCE_DIR) + "/tests/fixtures/registry/config.yml";
constexpr const char* kSecretMark = "SECRET";  // in every secret value of the fixture

std::string show(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout:\n" + r.out + "--- stderr:\n" + r.err;
}

// Points the fixture at the test's server the way registry pods get their database settings:
// REGISTRY_* variables over the file (the file itself stays as the registry ships it).
Env registry_env(const TestDatabase& db) {
  const auto d = db.config();
  return {{"REGISTRY_DATABASE_HOST", d.host},         {"REGISTRY_DATABASE_PORT", std::to_string(d.port)},
          {"REGISTRY_DATABASE_USER", d.user},         {"REGISTRY_DATABASE_PASSWORD", d.password},
          {"REGISTRY_DATABASE_DBNAME", d.dbname},     {"REGISTRY_DATABASE_SSLMODE", d.sslmode},
          {"REGISTRY_DATABASE_SSLCERT", ""},          {"REGISTRY_DATABASE_SSLKEY", ""},
          {"REGISTRY_DATABASE_SSLROOTCERT", ""},      {"REGISTRY_HTTP_DEBUG_ADDR", "127.0.0.1:0"},
          {"REGISTRY_DATABASE_BACKGROUNDMIGRATIONS_STARTUPJITTER", "0s"}};
}

Env with(Env env, const std::string& name, const std::string& value) {
  env[name] = value;
  return env;
}

void check_no_secret(const CommandResult& r) {
  INFO(show(r));
  CHECK(r.out.find(kSecretMark) == std::string::npos);
  CHECK(r.err.find(kSecretMark) == std::string::npos);
}

Rows statuses(TestDatabase& db) { return db.rows("SELECT name, status FROM batched_background_migrations ORDER BY id"); }

// Two active migrations over t.
struct Queued {
  TestDatabase db;
  Queued() {
    bbmd::test::apply_bbmd_schema(db);
    bbmd::e2e::make_table(db, 10);
    bbmd::e2e::queue_t_migration(db, "20260101000001_first", "touch", 10, 5);
    bbmd::e2e::queue_t_migration(db, "20260101000002_second", "touch", 10, 5);
  }
};

}  // namespace

TEST_CASE("the registry's config.yml drives pause, resume and status", "[e2e][cli][registry]") {
  Queued q;
  const auto env = registry_env(q.db);
  auto r = run_bbmd({"background-migrate", "pause", kFixture}, 30s, env);
  INFO(show(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "paused 2 batched background migrations\n");
  check_no_secret(r);
  CHECK(statuses(q.db) == Rows{{"20260101000001_first", "0"}, {"20260101000002_second", "0"}});

  r = run_bbmd({"background-migrate", "resume", "20260101000002_second", kFixture}, 30s, env);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "resumed 1 batched background migration\n");
  check_no_secret(r);
  CHECK(statuses(q.db) == Rows{{"20260101000001_first", "0"}, {"20260101000002_second", "1"}});

  r = run_bbmd({"background-migrate", "status", "--json", kFixture}, 30s, env);
  CHECK(r.exit_code == 0);
  check_no_secret(r);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["migrations"].size() == 2);
  CHECK(j["migrations"][0]["status"] == "paused");
  CHECK(j["migrations"][1]["status"] == "active");
}

TEST_CASE("REGISTRY_CONFIGURATION_PATH names the config when no argument does", "[e2e][cli][registry]") {
  Queued q;
  const auto env = with(registry_env(q.db), "REGISTRY_CONFIGURATION_PATH", kFixture);
  auto r = run_bbmd({"background-migrate", "pause"}, 30s, env);
  INFO(show(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "paused 2 batched background migrations\n");
  CHECK(statuses(q.db) == Rows{{"20260101000001_first", "0"}, {"20260101000002_second", "0"}});
  r = run_bbmd({"background-migrate", "status", "--json"}, 30s, env);
  CHECK(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["migrations"].size() == 2);
  check_no_secret(r);

  // Neither an argument nor the variable: a usage error naming both.
  r = run_bbmd({"background-migrate", "resume"}, 30s, registry_env(q.db));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("expected [name] <config> (or the config file in REGISTRY_CONFIGURATION_PATH)") !=
        std::string::npos);
  CHECK(statuses(q.db) == Rows{{"20260101000001_first", "0"}, {"20260101000002_second", "0"}});
}

TEST_CASE("log.fields from the registry's config.yml are on every JSON line", "[e2e][cli][registry][log]") {
  Queued q;
  bbmd::test::BbmdProcess serve({"serve", kFixture}, registry_env(q.db));
  REQUIRE(serve.wait_for_log("\"msg\":\"bbmd serving\"", 10s));
  serve.signal(SIGTERM);
  REQUIRE(serve.wait_for_exit(20s) == std::optional<int>(0));
  const auto lines = bbmd::e2e::json_lines(serve.err());
  INFO(serve.err());
  CHECK(lines.size() >= 3);
  for (const auto& line : lines) {
    CHECK(line.value("service", "") == "registry");
    CHECK(line.value("environment", "") == "production");
  }
  CHECK(serve.err().find(kSecretMark) == std::string::npos);
  CHECK(serve.out().find(kSecretMark) == std::string::npos);
}

TEST_CASE("a typo inside bbmd's section of the registry's config.yml exits 2 naming the key", "[e2e][cli][registry]") {
  Queued q;
  std::ifstream in(kFixture);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string good = "    jobinterval: 1m\n";
  REQUIRE(text.find(good) != std::string::npos);
  text.replace(text.find(good), good.size(), "    jobintervall: 1m\n");
  bbmd::test::TempDir dir;
  const auto path = dir.write("config.yml", text).string();

  const auto r = run_bbmd({"background-migrate", "pause", path}, 30s, registry_env(q.db));
  INFO(show(r));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown key database.backgroundmigrations.jobintervall (did you mean "
                   "database.backgroundmigrations.jobinterval?)") != std::string::npos);
  CHECK(r.err.find(path) != std::string::npos);
  check_no_secret(r);
  CHECK(statuses(q.db) == Rows{{"20260101000001_first", "1"}, {"20260101000002_second", "1"}});
}

TEST_CASE("config check prints the effective settings of the registry's config.yml, secrets masked",
          "[e2e][cli][registry][config]") {
  const auto r = run_bbmd({"config", "check", kFixture}, 30s, {{"REGISTRY_DATABASE_PORT", "6432"}});
  INFO(show(r));
  CHECK(r.exit_code == 0);
  check_no_secret(r);
  CHECK(r.out.rfind("config file " + kFixture + " is valid", 0) == 0);
  for (const char* line : {"\n  database.host: db.example.com\n", "\n  database.port: 6432\n",
                           "\n  database.password: <redacted>\n", "\n  database.backgroundmigrations.jobinterval: 1m\n",
                           "\n  database.backgroundmigrations.workers: 1\n",
                           "\n  log.fields: {\"environment\":\"production\",\"service\":\"registry\"}\n",
                           "\n  http.debug.admin.token: \n",
                           "\nthe registry's own keys, accepted and not read:\n  version\n", "\n  storage\n",
                           "\n  http.secret\n", "\n  database.pool.maxidle\n"}) {
    CHECK(r.out.find(line) != std::string::npos);
  }
  // A password from the environment is masked as well; a bad file exits 2 naming the problem.
  const auto env_secret = run_bbmd({"config", "check", kFixture}, 30s,
                                   {{"REGISTRY_DATABASE_PASSWORD", "ENV-PASSWORD-SECRET-77"}});
  CHECK(env_secret.exit_code == 0);
  check_no_secret(env_secret);
  bbmd::test::TempDir dir;
  const auto bad = dir.write("config.yml", "database:\n  password: hunter2-SECRET\n  port: 0\n").string();
  const auto refused = run_bbmd({"config", "check", bad});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("config file " + bad + ": line 3: database.port: must be between 1 and 65535, got 0") !=
        std::string::npos);
  CHECK(refused.out.empty());
  check_no_secret(refused);
}

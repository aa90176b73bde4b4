// Secrets never leave bbmd: a distinctive database password and admin token, given in the config
// file or the environment, right or wrong, appear in no log line (debug included), metric,
// health answer, status page, admin API answer, status command or error message.
#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/e2e_helpers.hpp"
#include "e2e/ops_helpers.hpp"
#include "support/roles.hpp"

using namespace std::chrono_literals;
using bbmd::test::DroppedRoles;
using bbmd::test::login_as;
using bbmd::test::role_name;
using bbmd::test::CommandResult;
using bbmd::test::ConfigFile;
using bbmd::test::ConfigOverrides;
using bbmd::test::poll_until;
using bbmd::test::TestDatabase;

namespace {

// Letters, digits and dashes only, so that no quoting or escaping could hide a leak.
const std::string kPassword = "Qx7-pw-SECRET-31415";
const std::string kReloadedPassword = "Rl2-pw-SECRET-66260";
const std::string kWrongPassword = "Wr0-pw-SECRET-27182";
const std::string kToken = "tk9-admin-SECRET-16180";
const std::vector<std::string> kSecrets = {kPassword, kReloadedPassword, kWrongPassword, kToken};

void check_no_secret(const std::string& text, const std::string& where) {
  for (const auto& secret : kSecrets) {
    INFO(where << ":\n" << text);
    CHECK(text.find(secret) == std::string::npos);
  }
}

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

// A superuser that logs in with kPassword: the secret under test, not a privilege test.
struct SecretRole {
  explicit SecretRole(TestDatabase& db) : name(role_name(db, "bbmd_secret")), dropped(db, {name}) {
    db.exec("CREATE ROLE " + name + " LOGIN SUPERUSER PASSWORD '" + kPassword + "'");
  }
  std::string name;
  DroppedRoles dropped;
};

// Pre/post folders that exist (empty) next to the config, so `database migrate` commands run.
ConfigOverrides with_migration_dirs(const bbmd::test::TempDir& dirs, ConfigOverrides overrides = {}) {
  std::filesystem::create_directories(dirs.path() / "pre");
  std::filesystem::create_directories(dirs.path() / "post");
  overrides["database.migrations.pre"] = quoted((dirs.path() / "pre").string());
  overrides["database.migrations.post"] = quoted((dirs.path() / "post").string());
  return overrides;
}

// Every read-only command an operator runs, with its output checked.
void run_status_commands(const std::string& config, const std::map<std::string, std::string>& env,
                         int expected_exit) {
  const std::vector<std::vector<std::string>> commands = {
      {"background-migrate", "status", config},
      {"background-migrate", "status", config, "--json"},
      {"database", "migrate", "status", config},
      {"database", "migrate", "status", config, "--json"},
      {"database", "migrate", "version", config},
  };
  for (const auto& args : commands) {
    const auto r = bbmd::test::run_bbmd(args, 60s, env);
    INFO(args[0] << " " << args[1] << " " << args[2] << ": " << r.out << r.err);
    CHECK(r.exit_code == expected_exit);
    check_no_secret(r.out + r.err, args[0] + " " + args[1]);
  }
}

// Commands that change things, run where they cannot connect or cannot load their config.
void run_failing_commands(const std::string& config, int expected_exit, const std::string& expected_error,
                          const std::map<std::string, std::string>& env = {}) {
  const std::vector<std::vector<std::string>> commands = {
      {"background-migrate", "status", config},
      {"background-migrate", "run", config},
      {"background-migrate", "pause", config},
      {"database", "migrate", "up", config},
      {"database", "migrate", "status", config, "--json"},
  };
  for (const auto& args : commands) {
    const auto r = bbmd::test::run_bbmd(args, 60s, env);
    INFO(args[0] << " " << args[1] << " " << args[2] << ": " << r.out << r.err);
    CHECK(r.exit_code == expected_exit);
    CHECK(r.err.find(expected_error) != std::string::npos);
    check_no_secret(r.out + r.err, args[0] + " " + args[1]);
  }
}

}  // namespace

TEST_CASE("serve at debug level: logs, metrics, health, status page, admin API and status commands hold no secret",
          "[e2e][secrets]") {
  TestDatabase db;
  SecretRole role(db);
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 200);
  const auto done = bbmd::e2e::queue_t_migration(db, "20260401000000_touch", "touch", 200, 50);
  const auto held = bbmd::e2e::queue_t_migration(db, "20260401000001_held", "not_in_this_build", 200, 50);
  bbmd::test::MigrationRow bad;
  bad.name = "20260401000002_bad_table";
  bad.table_name = "public.missing";
  const auto failed = bbmd::test::queue_migration(db, bad);

  bbmd::test::TempDir dirs;
  ConfigFile cfg(login_as(db, role.name, kPassword),
                 with_migration_dirs(dirs, {{"log.level", "debug"}, {"http.debug.admin.token", quoted(kToken)}}));
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  auto serve = bbmd::e2e::start_serve(cfg);
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port);
  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, done) == "2" &&
                                  bbmd::e2e::migration_status(db, failed) == "3"; }, 30s));

  const std::vector<std::string> pages = {"/metrics", "/healthz", "/readyz", "/", "/api/v1/migrations",
                                         "/api/v1/migrations/" + std::to_string(held),
                                         "/api/v1/migrations/" + std::to_string(failed)};
  for (const auto& path : pages) {
    const auto reply = bbmd::ops::http_request(*port, "GET", path);
    CHECK(reply.status == 200);
    check_no_secret(reply.headers + reply.body, "GET " + path);
  }
  // The token authorises, and no answer repeats it (right or wrong).
  const auto bearer = "Authorization: Bearer " + kToken + "\r\n";
  const auto pause_path = "/api/v1/migrations/" + std::to_string(held) + "/pause";
  const auto paused = bbmd::ops::http_request(*port, "POST", pause_path, bearer);
  CHECK(paused.status == 200);
  check_no_secret(paused.headers + paused.body, "POST pause");
  const auto wrong = bbmd::ops::http_request(*port, "POST", pause_path, "Authorization: Bearer " + kWrongPassword + "\r\n");
  CHECK(wrong.status == 403);
  check_no_secret(wrong.headers + wrong.body, "POST pause with a wrong token");
  const auto retried = bbmd::ops::http_request(*port, "POST", "/api/v1/migrations/" + std::to_string(failed) + "/retry", bearer);
  CHECK(retried.status == 200);
  check_no_secret(retried.headers + retried.body, "POST retry");

  run_status_commands(cfg.path(), {}, 0);

  // A reload that changes the password (not reloadable) names the key, never either value.
  auto text = bbmd::test::read_text(cfg.path());
  const auto at = text.find(kPassword);
  REQUIRE(at != std::string::npos);
  cfg.dir().write("config.yml", text.replace(at, kPassword.size(), kReloadedPassword));
  serve->signal(SIGHUP);
  REQUIRE(serve->wait_for_log("\"msg\":\"configuration reloaded\"", 10s));
  CHECK(serve->err().find(R"("key":"database.password")") != std::string::npos);
  check_no_secret(bbmd::ops::http_request(*port, "GET", "/metrics").body, "/metrics after reload");

  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
  // The debug level was on: every query and sleep was logged, and still no secret.
  CHECK(serve->err().find("\"level\":\"debug\"") != std::string::npos);
  check_no_secret(serve->err(), "serve stderr");
  check_no_secret(serve->out(), "serve stdout");
}

TEST_CASE("the password from REGISTRY_DATABASE_PASSWORD connects and appears nowhere", "[e2e][secrets]") {
  TestDatabase db;
  SecretRole role(db);
  bbmd::test::apply_bbmd_schema(db);
  bbmd::test::TempDir dirs;
  ConfigFile cfg(login_as(db, role.name, ""), with_migration_dirs(dirs, {{"log.level", "debug"}}));
  const std::map<std::string, std::string> env = {{"REGISTRY_DATABASE_PASSWORD", kPassword}};
  run_status_commands(cfg.path(), env, 0);

  bbmd::test::BbmdProcess serve({"serve", cfg.path()}, env);
  REQUIRE(serve.wait_for_log("\"msg\":\"bbmd serving\"", 10s));
  const auto port = bbmd::test::debug_port(serve.err());
  REQUIRE(port);
  REQUIRE(poll_until([&] { return bbmd::e2e::http_get(*port, "/readyz").status == 200; }, 10s));
  check_no_secret(bbmd::e2e::http_get(*port, "/metrics").body, "/metrics");
  serve.signal(SIGTERM);
  CHECK(serve.wait_for_exit(10s) == 0);
  check_no_secret(serve.err() + serve.out(), "serve output");
}

TEST_CASE("a wrong password: serve reports the failure, /readyz says why, and neither password is shown",
          "[e2e][secrets]") {
  TestDatabase db;
  SecretRole role(db);
  bbmd::test::apply_bbmd_schema(db);
  bbmd::test::TempDir dirs;
  ConfigFile cfg(login_as(db, role.name, kWrongPassword), with_migration_dirs(dirs, {{"log.level", "debug"}}));
  const std::string refused = "password authentication failed for user \"" + role.name + "\"";
  run_failing_commands(cfg.path(), 1, refused);
  // The same from the environment, overriding a right password in the file.
  ConfigFile right(login_as(db, role.name, kPassword), with_migration_dirs(dirs));
  run_failing_commands(right.path(), 1, refused, {{"REGISTRY_DATABASE_PASSWORD", kWrongPassword}});

  auto serve = bbmd::e2e::start_serve(cfg);
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port);
  // The JSON log escapes the quotes around the user name.
  REQUIRE(serve->wait_for_log("password authentication failed for user", 10s));
  const auto ready = bbmd::e2e::http_get(*port, "/readyz");
  CHECK(ready.status == 503);
  CHECK(ready.body.find(refused) != std::string::npos);
  check_no_secret(ready.body, "/readyz");
  check_no_secret(bbmd::e2e::http_get(*port, "/metrics").body, "/metrics");
  check_no_secret(bbmd::e2e::http_get(*port, "/").body, "status page");
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
  check_no_secret(serve->err() + serve->out(), "serve output");
}

TEST_CASE("unreachable servers and TLS settings that cannot work: errors name the server, never the password",
          "[e2e][secrets]") {
  TestDatabase db;
  bbmd::test::TempDir dirs;
  auto closed = login_as(db, "postgres", kPassword);
  closed.host = "127.0.0.1";
  closed.port = bbmd::ops::free_port();
  ConfigFile refused(closed, with_migration_dirs(dirs));
  run_failing_commands(refused.path(), 1, "Connection refused");

  // A client key and certificate that do not exist, with TLS required: the error is about TLS
  // (the server's support for it, or the missing root certificate), never the password.
  ConfigFile tls(login_as(db, "postgres", kPassword),
                 with_migration_dirs(dirs, {{"database.sslmode", quoted("verify-full")},
                                            {"database.sslcert", quoted((dirs.path() / "client.crt").string())},
                                            {"database.sslkey", quoted((dirs.path() / "client.key").string())},
                                            {"database.sslrootcert", quoted((dirs.path() / "root.crt").string())}}));
  run_failing_commands(tls.path(), 1, "connect failed: connection to server at \"" + db.config().host + "\"");
}

TEST_CASE("a connection string with a password in dbname, host or user is refused without quoting it",
          "[e2e][secrets]") {
  TestDatabase db;
  bbmd::test::TempDir dirs;
  const auto base = login_as(db, "postgres", "");
  const std::string uri = "postgresql://postgres:" + kPassword + "@127.0.0.1:5432/" + db.name();
  const std::string conninfo = "host=127.0.0.1 password=" + kPassword;
  for (const std::string key : {"database.dbname", "database.host", "database.user"}) {
    for (const auto& value : {uri, conninfo}) {
      ConfigFile cfg(base, with_migration_dirs(dirs, {{key, quoted(value)}}));
      run_failing_commands(cfg.path(), 2, key + ": looks like a connection string");
    }
  }
}

TEST_CASE("configuration errors never quote a secret", "[e2e][secrets]") {
  TestDatabase db;
  bbmd::test::TempDir dirs;
  const auto base = login_as(db, "postgres", kPassword);
  struct Case {
    ConfigOverrides overrides;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{{"database.port", quoted("not-a-port")}}, "database.port: expected an integer, got \"not-a-port\""},
      {{{"database.password", "[" + quoted(kPassword) + "]"}}, "database.password: expected a string, found a sequence"},
      {{{"database.password", "{" + kPassword + ": 1}"}}, "database.password: expected a string, found a mapping"},
      {{{"http.debug.admin.token", "[" + quoted(kToken) + "]"}}, "http.debug.admin.token: expected a string, found a sequence"},
      {{{"database.passwrd", quoted(kWrongPassword)}}, "unknown key database.passwrd (did you mean database.password?)"},
  };
  for (const auto& c : cases) {
    ConfigFile cfg(base, with_migration_dirs(dirs, c.overrides));
    run_failing_commands(cfg.path(), 2, c.error);
  }
  // A bad value in the environment next to a secret one.
  ConfigFile cfg(base, with_migration_dirs(dirs));
  run_failing_commands(cfg.path(), 2, "REGISTRY_DATABASE_CONNECTTIMEOUT",
                       {{"REGISTRY_DATABASE_PASSWORD", kWrongPassword}, {"REGISTRY_DATABASE_CONNECTTIMEOUT", "soon"}});
}

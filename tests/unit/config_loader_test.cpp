// The config loader: defaults, every key type, env overrides, errors that name the key, and the
// connection liveness keys with the libpq options they become.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "config/keys.hpp"
#include "config/loader.hpp"
#include "db/conninfo.hpp"
#include "support/fake_env.hpp"
#include "unit/config_text.hpp"

namespace cfg = bbmd::config;
using namespace std::chrono_literals;
using bbmd::test::fake_env;

namespace {

using bbmd::test::load_config;
using bbmd::test::config_error_of;

// A scratch folder removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bbmd-config-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return path / name;
  }
};

constexpr const char* kSecret = "s3cr3t-Pa55";

// The liveness options conn_params hands to libpq, by name.
std::map<std::string, std::string> liveness_options(const cfg::Database& db) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : bbmd::db::conn_params(db).keywords) {
    if (key.starts_with("keepalives") || key == "tcp_user_timeout") out[key] = value;
  }
  return out;
}

}  // namespace

TEST_CASE("an empty mapping keeps every default", "[config]") {
  const cfg::Config c = load_config("{}");
  CHECK(c.database.host == "localhost");
  CHECK(c.database.port == 5432);
  CHECK(c.backgroundmigrations.maxjobretries == 3);
  CHECK(c.backgroundmigrations.jobinterval == 0ms);
  CHECK(c.log.level == "info");
  CHECK(c.log.formatter == "json");
  // Default relative folders are resolved like any other path: against the config's folder.
  CHECK(c.backgroundmigrations.sqlfunctions == "/etc/bbmd/sql/background");
  CHECK(c.migrations.pre == "/etc/bbmd/migrations/pre");
}

TEST_CASE("every key type parses", "[config]") {
  const cfg::Config c = load_config(R"(
version: 0.1
database:
  host: db.internal
  port: 6432
  user: registry
  password: hunter2
  dbname: reg
  sslmode: verify-full
  sslrootcert: /certs/ca.pem
  connecttimeout: 2s
  pool:
    maxopen: 9
  backgroundmigrations:
    enabled: false
    jobinterval: 1m30s
    maxjobretries: 5
    workers: 8
    leaseduration: 10m
    statementtimeout: 500ms
    locktimeout: 1.5s
    shutdowntimeout: 0
    startupjitter: 250ms
    holdinterval: 2h
    sqlfunctions: /opt/sql
    backoff:
      initial: 1s
      max: 1m
      multiplier: 1.5
      jitter: 0.1
    throttle:
      flagfile: /run/bbmd/throttle
      query: SELECT pg_is_in_recovery()
  migrations:
    pre: /m/pre
    post: /m/post
log:
  level: debug
  formatter: text
http:
  debug:
    addr: ":5002"
    prometheus:
      enabled: no
      path: /m
)");
  CHECK(c.database.host == "db.internal");
  CHECK(c.database.port == 6432);
  CHECK(c.database.user == "registry");
  CHECK(c.database.password == "hunter2");
  CHECK(c.database.dbname == "reg");
  CHECK(c.database.sslmode == "verify-full");
  CHECK(c.database.sslrootcert == "/certs/ca.pem");
  CHECK(c.database.connecttimeout == 2s);
  CHECK(c.pool.maxopen == 9);
  const auto& b = c.backgroundmigrations;
  CHECK_FALSE(b.enabled);
  CHECK(b.jobinterval == 90s);
  CHECK(b.maxjobretries == 5);
  CHECK(b.workers == 8);
  CHECK(b.leaseduration == 10min);
  CHECK(b.statementtimeout == 500ms);
  CHECK(b.locktimeout == 1500ms);
  CHECK(b.shutdowntimeout == 0ms);
  CHECK(b.startupjitter == 250ms);
  CHECK(b.holdinterval == 2h);
  CHECK(b.sqlfunctions == "/opt/sql");
  CHECK(b.backoff.initial == 1s);
  CHECK(b.backoff.max == 1min);
  CHECK(b.backoff.multiplier == 1.5);
  CHECK(b.backoff.jitter == 0.1);
  CHECK(b.throttle.flagfile == "/run/bbmd/throttle");
  CHECK(b.throttle.query == "SELECT pg_is_in_recovery()");
  CHECK(c.migrations.pre == "/m/pre");
  CHECK(c.migrations.post == "/m/post");
  CHECK(c.log.level == "debug");
  CHECK(c.log.formatter == "text");
  CHECK(c.http_debug.addr == ":5002");
  CHECK_FALSE(c.http_debug.prometheus_enabled);
  CHECK(c.http_debug.prometheus_path == "/m");
}

TEST_CASE("an unknown key is named by its full path", "[config]") {
  const std::string msg = config_error_of("database:\n  backgroundmigrations:\n    jobintervall: 1s\n");
  CHECK_THAT(msg, Catch::Contains("unknown key database.backgroundmigrations.jobintervall"));
  CHECK_THAT(msg, Catch::Contains("line 3"));
  CHECK_THAT(msg, Catch::Contains("did you mean database.backgroundmigrations.jobinterval?"));
  CHECK_THAT(config_error_of("databse:\n  host: x\n"), Catch::Contains("unknown key databse"));
  CHECK_THAT(config_error_of("log:\n  level: info\n  colour: true\n"), Catch::Contains("unknown key log.colour"));
  // `version` is ignored only at the top level.
  CHECK_THAT(config_error_of("log:\n  version: 1\n"), Catch::Contains("unknown key log.version"));
}

TEST_CASE("wrong types name the key and the expected type", "[config]") {
  CHECK_THAT(config_error_of("database:\n  port: abc\n"),
             Catch::Contains("database.port: expected an integer, got \"abc\""));
  CHECK_THAT(config_error_of("database:\n  port: 5432.5\n"), Catch::Contains("database.port: expected an integer"));
  CHECK_THAT(config_error_of("database:\n  port: 99999999999\n"), Catch::Contains("database.port: integer out of range"));
  CHECK_THAT(config_error_of("database:\n  backgroundmigrations:\n    enabled: maybe\n"),
             Catch::Contains("database.backgroundmigrations.enabled: expected a boolean"));
  CHECK_THAT(config_error_of("database:\n  backgroundmigrations:\n    backoff:\n      multiplier: fast\n"),
             Catch::Contains("database.backgroundmigrations.backoff.multiplier: expected a number"));
  CHECK_THAT(config_error_of("database:\n  host: [a, b]\n"),
             Catch::Contains("database.host: expected a string, found a sequence"));
  CHECK_THAT(config_error_of("database:\n  port:\n"), Catch::Contains("database.port: expected an integer, found an empty value"));
  CHECK_THAT(config_error_of("database: localhost\n"),
             Catch::Contains("database: expected a mapping of settings, found a scalar"));
  CHECK_THAT(config_error_of("database:\n  host: a\n  host: b\n"), Catch::Contains("duplicate key database.host"));
}

TEST_CASE("bad durations name the key and the value", "[config]") {
  const std::string msg = config_error_of("database:\n  backgroundmigrations:\n    jobinterval: 10\n");
  CHECK_THAT(msg, Catch::Contains("database.backgroundmigrations.jobinterval: invalid duration \"10\""));
  CHECK_THAT(msg, Catch::Contains("add a unit"));
  CHECK_THAT(config_error_of("database:\n  connecttimeout: 5 minutes\n"),
             Catch::Contains("database.connecttimeout: invalid duration \"5 minutes\""));
  CHECK_THAT(config_error_of("database:\n  backgroundmigrations:\n    locktimeout: -1s\n"),
             Catch::Contains("negative"));
}

TEST_CASE("ranges and choices are validated", "[config]") {
  CHECK_THAT(config_error_of("database:\n  port: 0\n"), Catch::Contains("line 2: database.port: must be between 1 and 65535, got 0"));
  CHECK_THAT(config_error_of("database:\n  port: 65536\n"), Catch::Contains("database.port"));
  CHECK(load_config("database:\n  port: 65535\n").database.port == 65535);
  CHECK_THAT(config_error_of("database:\n  backgroundmigrations:\n    maxjobretries: 0\n"),
             Catch::Contains("maxjobretries: must be at least 1"));
  CHECK_THAT(config_error_of("database:\n  backgroundmigrations:\n    workers: 65\n  pool:\n    maxopen: 100\n"),
             Catch::Contains("workers: must be between 1 and 64"));
  CHECK_THAT(config_error_of("database:\n  pool:\n    maxopen: 0\n"), Catch::Contains("maxopen: must be at least 1"));
  const std::string spare = config_error_of("database:\n  pool:\n    maxopen: 4\n  backgroundmigrations:\n    workers: 4\n");
  CHECK_THAT(spare, Catch::Contains("database.pool.maxopen is 4"));
  CHECK_THAT(spare, Catch::Contains("one spare connection"));
  CHECK_THAT(spare, Catch::Contains("at least workers + 1 = 5"));
  CHECK_THAT(config_error_of("database:\n  backgroundmigrations:\n    backoff:\n      initial: 1m\n      max: 10s\n"),
             Catch::Contains("backoff.initial (1m) must not exceed database.backgroundmigrations.backoff.max (10s)"));
  CHECK_THAT(config_error_of("database:\n  backgroundmigrations:\n    backoff:\n      multiplier: 0.5\n"),
             Catch::Contains("multiplier: must be at least 1, got 0.5"));
  CHECK_THAT(config_error_of("database:\n  backgroundmigrations:\n    backoff:\n      jitter: 1\n"),
             Catch::Contains("jitter: must be at least 0 and less than 1, got 1"));
  CHECK_THAT(config_error_of("database:\n  backgroundmigrations:\n    leaseduration: 0\n"),
             Catch::Contains("leaseduration: must be at least 1ms, got 0s"));
  CHECK_THAT(config_error_of("log:\n  level: verbose\n"),
             Catch::Contains("log.level: must be one of trace, debug, info, warn, error; got \"verbose\""));
  CHECK_THAT(config_error_of("log:\n  formatter: xml\n"), Catch::Contains("log.formatter: must be one of json, text"));
  CHECK_THAT(config_error_of("database:\n  sslmode: sometimes\n"), Catch::Contains("database.sslmode: must be one of"));
}

TEST_CASE("empty, non-mapping and malformed documents are rejected", "[config]") {
  CHECK_THAT(config_error_of(""), Catch::Contains("is empty"));
  CHECK_THAT(config_error_of("# only a comment\n"), Catch::Contains("is empty"));
  CHECK_THAT(config_error_of("- a\n- b\n"), Catch::Contains("top level must be a mapping"));
  CHECK_THAT(config_error_of("just text"), Catch::Contains("top level must be a mapping"));
  CHECK_THAT(config_error_of("a: 1\n---\nb: 2\n"), Catch::Contains("2 YAML documents"));
  CHECK(config_error_of("database:\n  host: x\n  port: 1: 2\n") == "config: line 3, column 10: invalid YAML: illegal map value");
}

TEST_CASE("environment overrides win over the file", "[config]") {
  const cfg::Config c = load_config("database:\n  port: 6000\n  password: fromfile\n",
                             {{"REGISTRY_DATABASE_PORT", "7000"},
                              {"REGISTRY_DATABASE_PASSWORD", "fromenv"},
                              {"REGISTRY_DATABASE_BACKGROUNDMIGRATIONS_JOBINTERVAL", "250ms"},
                              {"REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED", "0"},
                              {"REGISTRY_DATABASE_BACKGROUNDMIGRATIONS_BACKOFF_JITTER", "0.5"},
                              {"REGISTRY_LOG_LEVEL", "warn"}});
  CHECK(c.database.port == 7000);
  CHECK(c.database.password == "fromenv");
  CHECK(c.backgroundmigrations.jobinterval == 250ms);
  CHECK_FALSE(c.http_debug.prometheus_enabled);
  CHECK(c.backgroundmigrations.backoff.jitter == 0.5);
  CHECK(c.log.level == "warn");
  for (const auto& [text, want] : std::map<std::string, bool>{{"true", true}, {"yes", true}, {"1", true},
                                                              {"false", false}, {"no", false}, {"0", false}}) {
    INFO(text);
    CHECK(load_config("{}", {{"REGISTRY_DATABASE_BACKGROUNDMIGRATIONS_ENABLED", text}}).backgroundmigrations.enabled == want);
  }
}

TEST_CASE("environment errors name the variable", "[config]") {
  CHECK_THAT(config_error_of("{}", {{"REGISTRY_DATABASE_PORT", "five"}}),
             Catch::Contains("environment variable REGISTRY_DATABASE_PORT (database.port): expected an integer"));
  CHECK_THAT(config_error_of("{}", {{"REGISTRY_DATABASE_BACKGROUNDMIGRATIONS_JOBINTERVAL", "10"}}),
             Catch::Contains("REGISTRY_DATABASE_BACKGROUNDMIGRATIONS_JOBINTERVAL"));
  CHECK_THAT(config_error_of("{}", {{"REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED", "on-ish"}}),
             Catch::Contains("REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED"));
  // Out-of-range values from the environment point at the variable, not at a file line.
  CHECK_THAT(config_error_of("{}", {{"REGISTRY_DATABASE_PORT", "0"}}),
             Catch::Contains("database.port (from environment variable REGISTRY_DATABASE_PORT): must be between"));
}

TEST_CASE("the password never appears in an error message", "[config][secret]") {
  const std::string quoted = std::string("\"") + kSecret + "\"";
  const std::string messages[] = {
      config_error_of(std::string("database:\n  password: [") + kSecret + ", 2]\n"),
      config_error_of(std::string("database:\n  password: {") + kSecret + ": 1}\n"),
      config_error_of(std::string("database:\n  password: ") + kSecret + "\n  port: 0\n"),
      config_error_of(std::string("database:\n  password: ") + kSecret + "\n  port: [1\n"),
      config_error_of(std::string("database:\n  password: ") + quoted + "\n  bogus: 1\n"),
      config_error_of("{}", {{"REGISTRY_DATABASE_PASSWORD", kSecret}, {"REGISTRY_DATABASE_PORT", "x"}}),
      config_error_of("{}", {{"REGISTRY_DATABASE_PASSWORD", kSecret}, {"REGISTRY_LOG_LEVEL", "loud"}}),
  };
  for (const auto& msg : messages) {
    INFO(msg);
    CHECK_THAT(msg, !Catch::Contains(kSecret));
  }
  CHECK_THAT(messages[0], Catch::Contains("database.password: expected a string, found a sequence"));
  CHECK_THAT(messages[1], Catch::Contains("database.password"));
  const cfg::Config c = load_config(std::string("database:\n  password: ") + kSecret + "\n");
  CHECK(cfg::display(*cfg::find_key("database.password"), c) == "<redacted>");
}

TEST_CASE("relative paths resolve against the config file's folder", "[config]") {
  TempDir dir;
  const auto file = dir.write("registry.yml", R"(
database:
  backgroundmigrations:
    sqlfunctions: sql/bbm
    throttle:
      flagfile: ../run/throttle
  migrations:
    pre: ./pre
    post: /abs/post
)");
  const cfg::Config c = cfg::load_file(file, fake_env({{"REGISTRY_DATABASE_PASSWORD", "pw"}}));
  CHECK(c.source == file);
  CHECK(c.database.password == "pw");
  CHECK(c.backgroundmigrations.sqlfunctions == dir.path / "sql/bbm");
  CHECK(c.backgroundmigrations.throttle.flagfile == (dir.path.parent_path() / "run/throttle").string());
  CHECK(c.migrations.pre == dir.path / "pre");
  CHECK(c.migrations.post == "/abs/post");
  // An unset flag file stays unset rather than becoming the folder itself.
  CHECK(cfg::load_file(dir.write("min.yml", "{}"), fake_env()).backgroundmigrations.throttle.flagfile.empty());
}

TEST_CASE("file errors name the file", "[config]") {
  TempDir dir;
  const auto missing = dir.path / "nope.yml";
  try {
    (void)cfg::load_file(missing, fake_env());
    FAIL("loaded a missing file");
  } catch (const cfg::ConfigError& e) {
    CHECK(std::string(e.what()) == "config file " + missing.string() + ": cannot open: No such file or directory");
  }
  const auto bad = dir.write("bad.yml", "log:\n  level: info\n formatter: [\n");
  try {
    (void)cfg::load_file(bad, fake_env());
    FAIL("loaded bad YAML");
  } catch (const cfg::ConfigError& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("config file " + bad.string() + ": line 3"));
  }
  const auto unknown = dir.write("unknown.yml", "log:\n  lvl: info\n");
  CHECK_THROWS_WITH(cfg::load_file(unknown, fake_env()),
                    "config file " + unknown.string() + ": line 2: unknown key log.lvl (did you mean log.level?)");
}

TEST_CASE("the key table drives env names and reload decisions", "[config]") {
  CHECK(cfg::env_name("database.backgroundmigrations.jobinterval") ==
        "REGISTRY_DATABASE_BACKGROUNDMIGRATIONS_JOBINTERVAL");
  for (const auto& key : cfg::keys()) {
    INFO(key.path);
    CHECK_FALSE(key.help.empty());
    CHECK(key.secret == (key.path == "database.password" || key.path == "http.debug.admin.token"));
  }
  cfg::Config old;
  cfg::Config now;
  now.log.level = "debug";
  now.backgroundmigrations.jobinterval = 5s;
  now.backgroundmigrations.backoff.multiplier = 3;
  CHECK(cfg::changed_non_reloadable(old, now).empty());
  now.database.host = "elsewhere";
  now.backgroundmigrations.workers = 2;
  now.http_debug.addr = ":1";
  CHECK(cfg::changed_non_reloadable(old, now) ==
        std::vector<std::string>{"database.host", "database.backgroundmigrations.workers", "http.debug.addr"});
  cfg::copy_reloadable(now, old);
  CHECK(old.log.level == "debug");
  CHECK(old.backgroundmigrations.jobinterval == 5s);
  CHECK(old.database.host == "localhost");
  CHECK(old.backgroundmigrations.workers == 1);
}

TEST_CASE("liveness keys default to 10s idle, 5s interval, 3 probes and a 30s user timeout", "[config][liveness]") {
  const cfg::Config c = load_config("{}");
  CHECK(c.database.keepalives.idle == 10s);
  CHECK(c.database.keepalives.interval == 5s);
  CHECK(c.database.keepalives.count == 3);
  CHECK(c.database.tcpusertimeout == 30s);
  CHECK(liveness_options(c.database) == std::map<std::string, std::string>{{"keepalives", "1"},
                                                                           {"keepalives_count", "3"},
                                                                           {"keepalives_idle", "10"},
                                                                           {"keepalives_interval", "5"},
                                                                           {"tcp_user_timeout", "30000"}});
}

TEST_CASE("liveness keys are read from the file and turned into libpq options", "[config][liveness]") {
  const cfg::Config c = load_config(R"(
database:
  keepalives:
    idle: 2s
    interval: 1500ms
    count: 4
  tcpusertimeout: 2500ms
)");
  CHECK(c.database.keepalives.idle == 2s);
  CHECK(c.database.keepalives.interval == 1500ms);
  CHECK(c.database.keepalives.count == 4);
  CHECK(c.database.tcpusertimeout == 2500ms);
  // libpq counts keepalive times in whole seconds: 1.5 s rounds up, never down to a shorter bound.
  CHECK(liveness_options(c.database) == std::map<std::string, std::string>{{"keepalives", "1"},
                                                                           {"keepalives_count", "4"},
                                                                           {"keepalives_idle", "2"},
                                                                           {"keepalives_interval", "2"},
                                                                           {"tcp_user_timeout", "2500"}});
  // The server gets the same bounds for its end of the connection, in each transaction.
  CHECK(bbmd::db::conn_params(c.database).transaction_settings ==
        std::vector<std::pair<std::string, std::string>>{{"client_connection_check_interval", "1000"},
                                                         {"tcp_keepalives_idle", "2"},
                                                         {"tcp_keepalives_interval", "2"},
                                                         {"tcp_keepalives_count", "4"},
                                                         {"tcp_user_timeout", "2500"}});
}

TEST_CASE("liveness keys have environment overrides", "[config][liveness]") {
  const cfg::Config c = load_config("database:\n  keepalives:\n    idle: 20s\n",
                             {{"REGISTRY_DATABASE_KEEPALIVES_IDLE", "3s"},
                              {"REGISTRY_DATABASE_KEEPALIVES_INTERVAL", "2s"},
                              {"REGISTRY_DATABASE_KEEPALIVES_COUNT", "6"},
                              {"REGISTRY_DATABASE_TCPUSERTIMEOUT", "0"}});
  CHECK(c.database.keepalives.idle == 3s);
  CHECK(c.database.keepalives.interval == 2s);
  CHECK(c.database.keepalives.count == 6);
  CHECK(c.database.tcpusertimeout == 0ms);
  CHECK(liveness_options(c.database).at("tcp_user_timeout") == "0");  // 0: the kernel's default
}

TEST_CASE("liveness keys reject values libpq cannot express", "[config][liveness]") {
  CHECK_THAT(config_error_of("database:\n  keepalives:\n    idle: 500ms\n"),
             Catch::Contains("line 3: database.keepalives.idle: must be at least 1s, got 500ms"));
  CHECK_THAT(config_error_of("database:\n  keepalives:\n    interval: 0s\n"),
             Catch::Contains("line 3: database.keepalives.interval: must be at least 1s, got 0s"));
  CHECK_THAT(config_error_of("database:\n  keepalives:\n    count: 0\n"),
             Catch::Contains("line 3: database.keepalives.count: must be at least 1, got 0"));
  CHECK_THAT(config_error_of("database:\n  tcpusertimeout: 30\n"),
             Catch::Contains("database.tcpusertimeout: invalid duration \"30\""));
}

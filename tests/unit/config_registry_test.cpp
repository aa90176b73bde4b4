// The registry's own config.yml (tests/fixtures/registry/config.yml): read unchanged, shared keys
// honoured, the registry's sections accepted unread and never echoed, bbmd's own keys still strict.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "config/keys.hpp"
#include "config/loader.hpp"
#include "support/fake_env.hpp"

namespace cfg = bbmd::config;
using namespace std::chrono_literals;
using bbmd::test::fake_env;

namespace {

const std::string kFixture = std::string(BBMD_SOURCE_DIR) + "/tests/fixtures/registry/config.yml";

// Every value of the fixture that must never be shown holds this.
constexpr const char* kSecretMark = "SECRET";

std::string fixture_text() {
  std::ifstream in(kFixture);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The fixture with `from` replaced by `to` (exactly once).
std::string edited(const std::string& from, const std::string& to) {
  std::string text = fixture_text();
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  REQUIRE(text.find(from, at + 1) == std::string::npos);
  return text.replace(at, from.size(), to);
}

std::string error_of(const std::string& yaml, std::map<std::string, std::string> env = {}) {
  try {
    (void)cfg::load_string(yaml, "/etc/docker/registry", fake_env(std::move(env)));
  } catch (const cfg::ConfigError& e) {
    return e.what();
  }
  FAIL("config loaded without error");
  return {};
}

}  // namespace

TEST_CASE("the registry's config.yml loads as it is and its shared keys are honoured", "[config][registry]") {
  const cfg::Config c = cfg::load_file(kFixture, fake_env());
  CHECK(c.database.host == "db.example.com");
  CHECK(c.database.port == 5432);
  CHECK(c.database.user == "registry");
  CHECK(c.database.password == "DATABASE-PASSWORD-SECRET-4c8b");
  CHECK(c.database.dbname == "registry_production");
  CHECK(c.database.sslmode == "verify-full");
  CHECK(c.database.sslrootcert == "/etc/docker/registry/db-ca.crt");
  CHECK(c.database.connecttimeout == 5s);
  CHECK(c.pool.maxopen == 25);
  CHECK(c.backgroundmigrations.enabled);
  CHECK(c.backgroundmigrations.jobinterval == 1min);
  CHECK(c.backgroundmigrations.maxjobretries == 3);
  CHECK(c.log.level == "info");
  CHECK(c.log.formatter == "json");
  CHECK(c.log.fields == cfg::StringMap{{"environment", "production"}, {"service", "registry"}});
  CHECK(c.http_debug.addr == "127.0.0.1:5001");
  CHECK(c.http_debug.prometheus_enabled);
  // What the registry owns is listed by path, and only by path.
  CHECK(c.registry_keys ==
        std::vector<std::string>{"version", "log.accesslog", "log.hooks", "storage", "auth", "middleware",
                                 "reporting", "notifications", "redis", "health", "proxy", "validation",
                                 "compatibility", "gc", "rate_limiter", "profiling", "http.addr", "http.host",
                                 "http.secret", "http.relativeurls", "http.draintimeout", "http.headers", "http.tls",
                                 "http.debug.pprof", "database.enabled", "database.schema", "database.draintimeout",
                                 "database.primary", "database.pool.maxidle", "database.pool.maxlifetime",
                                 "database.pool.maxidletime", "database.loadbalancing", "database.metrics"});
}

TEST_CASE("the registry's secrets are never kept or shown", "[config][registry][secret]") {
  const cfg::Config c = cfg::load_file(kFixture, fake_env());
  std::string shown;
  for (const auto& key : cfg::keys()) shown += std::string(key.path) + "=" + cfg::display(key, c) + "\n";
  for (const auto& path : c.registry_keys) shown += path + "\n";
  INFO(shown);
  CHECK(shown.find(kSecretMark) == std::string::npos);
  CHECK_THAT(shown, Catch::Contains("database.password=<redacted>"));
}

TEST_CASE("a typo inside bbmd's own sections of the registry's file is an error naming the key", "[config][registry]") {
  struct Typo {
    std::string key, meant, from, to;
  };
  const std::vector<Typo> typos = {
      {"database.backgroundmigrations.jobintervall", "database.backgroundmigrations.jobinterval",
       "    jobinterval: 1m\n", "    jobintervall: 1m\n"},
      {"http.debug.prometheus.enabeld", "http.debug.prometheus.enabled", "      enabled: true\n      path: /metrics\n",
       "      enabeld: true\n      path: /metrics\n"},
  };
  for (const auto& t : typos) {
    INFO(t.key);
    const std::string msg = error_of(edited(t.from, t.to));
    CHECK_THAT(msg, Catch::Contains("unknown key " + t.key + " (did you mean " + t.meant + "?)"));
    CHECK_THAT(msg, !Catch::Contains(kSecretMark));
  }
  CHECK_THAT(error_of(edited("    maxjobretries: 3\n", "    maxjobretries: 3\n    workerz: 2\n")),
             Catch::Contains("unknown key database.backgroundmigrations.workerz (did you mean "
                             "database.backgroundmigrations.workers?)"));
  // Beside the registry's keys, bbmd's own sections stay as strict as ever.
  CHECK_THAT(error_of(edited("  schema: public\n", "  schema: public\n  hots: x\n")),
             Catch::Contains("unknown key database.hots (did you mean database.host?)"));
  CHECK_THAT(error_of(edited("    pprof:\n", "    ppof:\n")), Catch::Contains("unknown key http.debug.ppof"));
  CHECK_THAT(error_of(edited("\nstorage:\n", "\nstorag:\n")), Catch::Contains("unknown key storag"));
}

TEST_CASE("the registry's sections are accepted whatever they hold", "[config][registry]") {
  const auto c = cfg::load_string("storage: [1, 2]\nhttp:\n  addr: {a: b}\n  debug:\n    pprof: yes\n"
                                  "database:\n  loadbalancing: ~\n  pool:\n    maxidle: many\n",
                                  "/etc/docker/registry", fake_env());
  CHECK(c.registry_keys == std::vector<std::string>{"storage", "http.addr", "http.debug.pprof",
                                                     "database.loadbalancing", "database.pool.maxidle"});
  // Only at the places the registry owns them: `storage` under `log` is no registry key.
  CHECK_THAT(error_of("log:\n  storage: x\n"), Catch::Contains("unknown key log.storage"));
}

TEST_CASE("log.fields: a mapping of plain values, from the file or the environment", "[config][registry]") {
  const auto env = fake_env({{"REGISTRY_LOG_FIELDS", "{region: eu-west-1, shard: 7}"}});
  CHECK(cfg::load_string("log:\n  fields:\n    a: 1\n    b: x y\n", "/", fake_env()).log.fields ==
        cfg::StringMap{{"a", "1"}, {"b", "x y"}});
  CHECK(cfg::load_string("log:\n  fields:\n    a: 1\n", "/", env).log.fields ==
        cfg::StringMap{{"region", "eu-west-1"}, {"shard", "7"}});
  CHECK(cfg::load_string("log:\n  fields:\n", "/", fake_env()).log.fields.empty());
  CHECK_THAT(error_of("log:\n  fields: [a, b]\n"),
             Catch::Contains("line 2: log.fields: expected a mapping of names to values"));
  CHECK_THAT(error_of("log:\n  fields:\n    a: {b: c}\n"),
             Catch::Contains("log.fields: a: expected a plain value, found a mapping"));
  CHECK_THAT(error_of("{}", {{"REGISTRY_LOG_FIELDS", "[1]"}}),
             Catch::Contains("environment variable REGISTRY_LOG_FIELDS (log.fields): expected a mapping"));
  const cfg::Config c = cfg::load_string("log:\n  fields:\n    service: registry\n", "/", fake_env());
  CHECK(cfg::display(*cfg::find_key("log.fields"), c) == R"({"service":"registry"})");
}

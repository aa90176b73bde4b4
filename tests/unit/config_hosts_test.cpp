// database.host as a list and database.port as one port or one per host: parsing, the errors
// of bad lists, and the libpq options they become (multi-host with target_session_attrs).
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "config/keys.hpp"
#include "db/conninfo.hpp"
#include "unit/config_text.hpp"

namespace cfg = bbmd::config;

namespace {

using bbmd::test::load_config;
using bbmd::test::config_error_of;

// The libpq options that say where to connect, by name.
std::map<std::string, std::string> where_options(const cfg::Database& db) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : bbmd::db::conn_params(db).keywords) {
    if (key == "host" || key == "port" || key == "target_session_attrs") out[key] = value;
  }
  return out;
}

}  // namespace

TEST_CASE("one host and one port connect as before, without target_session_attrs", "[config][hosts]") {
  const auto c = load_config("database:\n  host: db.example.com\n  port: 6432\n");
  CHECK(c.database.port == 6432);
  CHECK(c.database.ports.empty());
  CHECK(where_options(c.database) == std::map<std::string, std::string>{{"host", "db.example.com"}, {"port", "6432"}});
  CHECK(bbmd::db::describe(c.database).starts_with("host=db.example.com port=6432 "));
}

TEST_CASE("several hosts with one port ask libpq for a read-write session on any of them", "[config][hosts]") {
  const auto c = load_config("database:\n  host: 10.0.0.1,10.0.0.2\n  port: 5433\n");
  CHECK(cfg::host_list(c.database) == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
  CHECK(where_options(c.database) == std::map<std::string, std::string>{
                                         {"host", "10.0.0.1,10.0.0.2"}, {"port", "5433"},
                                         {"target_session_attrs", "read-write"}});
}

TEST_CASE("a port per host is kept in order, the first also as the port, and blanks around commas go",
          "[config][hosts]") {
  const auto c = load_config("database:\n  host: a, b ,c\n  port: 5432, 5433,5434\n");
  CHECK(c.database.port == 5432);
  CHECK(c.database.ports == std::vector<int>{5432, 5433, 5434});
  CHECK(cfg::host_list(c.database) == std::vector<std::string>{"a", "b", "c"});
  CHECK(where_options(c.database) == std::map<std::string, std::string>{
                                         {"host", "a,b,c"}, {"port", "5432,5433,5434"},
                                         {"target_session_attrs", "read-write"}});
  CHECK(bbmd::db::describe(c.database).starts_with("host=a,b,c port=5432,5433,5434 "));
  CHECK(cfg::display(*cfg::find_key("database.port"), c) == "5432,5433,5434");
}

TEST_CASE("the port list comes from the environment too", "[config][hosts]") {
  const auto c = load_config("database:\n  host: a,b\n", {{"REGISTRY_DATABASE_PORT", "7000,7001"}});
  CHECK(c.database.ports == std::vector<int>{7000, 7001});
  // A single port from the environment drops a list the file gave.
  const auto one = load_config("database:\n  host: a,b\n  port: 1,2\n", {{"REGISTRY_DATABASE_PORT", "7000"}});
  CHECK(one.database.port == 7000);
  CHECK(one.database.ports.empty());
}

TEST_CASE("host and port counts that differ are a config error naming both keys", "[config][hosts]") {
  CHECK(config_error_of("database:\n  host: a,b,c\n  port: 5432,5433\n") ==
        "config: line 3: database.port lists 2 ports (5432,5433) but database.host lists 3 hosts: give one port for "
        "every host, or one per host in the same order");
  CHECK(config_error_of("database:\n  host: a\n  port: 5432,5433\n") ==
        "config: line 3: database.port lists 2 ports (5432,5433) but database.host lists 1 host: give one port for "
        "every host, or one per host in the same order");
  CHECK(config_error_of("database:\n  host: a,b\n", {{"REGISTRY_DATABASE_PORT", "1,2,3"}}) ==
        "config: database.port (from environment variable REGISTRY_DATABASE_PORT) lists 3 ports (1,2,3) but "
        "database.host lists 2 hosts: give one port for every host, or one per host in the same order");
}

TEST_CASE("bad port lists and empty hosts name the key and the text", "[config][hosts]") {
  CHECK(config_error_of("database:\n  host: a,b\n  port: 5432,abc\n") ==
        "config: line 3: database.port: expected an integer or integers separated by commas, got \"5432,abc\"");
  CHECK(config_error_of("database:\n  host: a,b\n  port: '5432,'\n") ==
        "config: line 3: database.port: expected an integer or integers separated by commas, got \"5432,\"");
  CHECK(config_error_of("database:\n  host: a,b\n  port: 5432,70000\n") ==
        "config: line 3: database.port: every port must be between 1 and 65535, got 70000 in \"5432,70000\"");
  CHECK(config_error_of("database:\n  host: a,b\n  port: 0,1\n") ==
        "config: line 3: database.port: every port must be between 1 and 65535, got 0 in \"0,1\"");
  CHECK(config_error_of("database:\n  host: a,,b\n") ==
        "config: line 2: database.host: an empty entry in the host list \"a,,b\"");
  // One port keeps the messages every integer key gives.
  CHECK(config_error_of("database:\n  port: 0\n") == "config: line 2: database.port: must be between 1 and 65535, got 0");
}

TEST_CASE("a reload that changes only a later port of the list needs a restart", "[config][hosts]") {
  const auto old = load_config("database:\n  host: a,b\n  port: 5432,5433\n");
  const auto now = load_config("database:\n  host: a,b\n  port: 5432,6433\n");
  CHECK(cfg::changed_non_reloadable(old, now) == std::vector<std::string>{"database.port"});
  CHECK(cfg::changed_non_reloadable(old, old).empty());
}

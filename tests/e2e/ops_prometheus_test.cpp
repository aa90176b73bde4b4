// A real Prometheus (Debian's prometheus) on loopback scrapes bbmd every second during a migration,
// with bbmd's alert rules loaded; the test reads the migration rate back through its HTTP API.
#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/e2e_helpers.hpp"
#include "e2e/ops_helpers.hpp"

using namespace std::chrono_literals;
using bbmd::ops::quote;
using bbmd::test::ConfigFile;
using bbmd::test::poll_until;
using bbmd::test::TempDir;
using bbmd::test::TestDatabase;

namespace {

std::string url_encode(const std::string& s) {
  std::string out;
  char buf[4];
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
      out += static_cast<char>(c);
    } else {
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// The first sample value of an instant query, or nullopt while there is none.
std::optional<double> query(int port, const std::string& promql) {
  const auto r = bbmd::e2e::http_get(port, "/api/v1/query?query=" + url_encode(promql));
  if (r.status != 200) return std::nullopt;
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || j.value("status", "") != "success" || j["data"]["result"].empty()) return std::nullopt;
  return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
}

}  // namespace

TEST_CASE("a real Prometheus scrapes bbmd during a migration and reports its rate", "[e2e][ops][prometheus]") {
  bbmd::ops::require_tool("prometheus", "prometheus");
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 3000);
  ConfigFile cfg(db);
  cfg.dir().write("functions/slow_touch.sql", bbmd::e2e::sleepy_touch_sql("0.1"));
  bbmd::e2e::queue_t_migration(db, "20260101000001_slow_touch", "slow_touch", 3000, 50);
  auto serve = bbmd::e2e::start_serve(cfg);
  const auto bbmd_port = bbmd::test::debug_port(serve->err());
  REQUIRE(bbmd_port.has_value());

  TempDir dir;
  const auto rules = bbmd::ops::source("deploy/prometheus/bbmd-alerts.yml");
  const auto config = dir.write("prometheus.yml",
                                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                "rule_files:\n  - " + rules.string() + "\n"
                                "scrape_configs:\n  - job_name: bbmd\n    static_configs:\n"
                                "      - targets: ['127.0.0.1:" + std::to_string(*bbmd_port) + "']\n");
  const int port = bbmd::ops::free_port();
  const auto log = dir.path() / "prometheus.log";
  const auto pid_file = dir.path() / "prometheus.pid";
  const std::string command = "prometheus --config.file=" + quote(config.string()) +
                              " --storage.tsdb.path=" + quote((dir.path() / "data").string()) +
                              " --web.listen-address=127.0.0.1:" + std::to_string(port) + " > " +
                              quote(log.string()) + " 2>&1 & echo $! > " + quote(pid_file.string());
  REQUIRE(std::system(command.c_str()) == 0);
  REQUIRE(poll_until([&] { return std::filesystem::exists(pid_file) && std::filesystem::file_size(pid_file) > 0; }, 5s));
  const auto pid = std::stoi(bbmd::test::read_text(pid_file));
  struct Stop {
    int pid;
    ~Stop() { ::kill(pid, SIGTERM); }
  } stop{pid};

  INFO(bbmd::test::read_text(log));
  REQUIRE(poll_until([&] { return bbmd::e2e::http_get(port, "/-/ready").status == 200; }, 30s, 200ms));
  REQUIRE(poll_until([&] { return query(port, "up{job=\"bbmd\"}") == 1.0; }, 20s, 250ms));
  // Rows per second over the last 5 s, computed by Prometheus from bbmd's counter.
  std::optional<double> rate;
  REQUIRE(poll_until([&] {
    rate = query(port, "sum(rate(registry_bbm_migrated_tuples_total[5s]))");
    return rate && *rate > 0;
  }, 40s, 500ms));
  CHECK(*rate < 100000);  // plausible: 50 rows per ~0.1 s batch
  // The progress gauge follows at the progress collector's own pace, so it may lag the counter.
  CHECK(poll_until([&] { return query(port, "max(registry_database_bbm_progress_percent)").value_or(-1) > 0; },
                   30s, 500ms));
  // The alert rules load into a real Prometheus too.
  const auto rules_api = bbmd::e2e::http_get(port, "/api/v1/rules");
  CHECK(rules_api.body.find("BBMMigrationFailed") != std::string::npos);
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(30s) == 0);
}

// The Grafana dashboard names only metrics bbmd exports: every metric in every panel's PromQL is
// looked up in a scrape of a running bbmd that has been driven through migrations, sub-batches,
// a hold, a failing batch, a lease takeover and throttling (some series only appear after use).
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "e2e/e2e_helpers.hpp"
#include "e2e/ops_helpers.hpp"

using namespace std::chrono_literals;
using bbmd::test::ConfigFile;
using bbmd::test::poll_until;
using bbmd::test::TestDatabase;

namespace {

void collect_exprs(const nlohmann::json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "expr" && value.is_string()) out.push_back(value.get<std::string>());
      else collect_exprs(value, out);
    }
  } else if (node.is_array()) {
    for (const auto& v : node) collect_exprs(v, out);
  }
}

// Every bbmd metric name (registry_* or bbmd_*) in the dashboard's PromQL; label values in quotes do
// not count, so a legend or a matcher value never looks like a metric.
std::set<std::string> dashboard_metrics(const nlohmann::json& dashboard) {
  std::vector<std::string> exprs;
  collect_exprs(dashboard, exprs);
  std::set<std::string> names;
  static const std::regex quoted("\"[^\"]*\"");
  static const std::regex ident("[a-zA-Z_:][a-zA-Z0-9_:]*");
  for (const auto& e : exprs) {
    const auto bare = std::regex_replace(e, quoted, "\"\"");
    for (std::sregex_iterator it(bare.begin(), bare.end(), ident), end; it != end; ++it) {
      const auto name = it->str();
      if (name.starts_with("registry_") || name.starts_with("bbmd_")) names.insert(name);
    }
  }
  return names;
}

// Sample names in a scrape (histograms show up as their _bucket, _sum and _count series).
std::set<std::string> exported(const std::string& scrape) {
  std::set<std::string> names;
  std::istringstream in(scrape);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return names;
}

std::vector<std::string> missing(const std::set<std::string>& wanted, const std::set<std::string>& have) {
  std::vector<std::string> out;
  for (const auto& n : wanted) {
    if (!have.contains(n)) out.push_back(n);
  }
  return out;
}

nlohmann::json load_dashboard() {
  std::ifstream in(bbmd::ops::source("deploy/grafana/bbmd-dashboard.json"));
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("dashboard metric check catches a panel that names a missing metric", "[e2e][ops][dashboard]") {
  auto dashboard = load_dashboard();
  const auto names = dashboard_metrics(dashboard);
  CHECK(names.contains("registry_database_bbm_progress_percent"));
  CHECK(names.contains("registry_bbm_job_duration_seconds_bucket"));
  CHECK(!names.contains("registry_bbm_migration_status_failed"));
  std::string scrape;  // a scrape that has exactly what the real dashboard names
  for (const auto& n : names) scrape += n + "{migration_id=\"1\"} 5\n";
  CHECK(missing(names, exported(scrape)).empty());
  dashboard["panels"][0]["targets"][0]["expr"] = "sum(registry_bbm_no_such_metric) + registry_database_bbm_progress_percent";
  CHECK(missing(dashboard_metrics(dashboard), exported(scrape)) ==
        std::vector<std::string>{"registry_bbm_no_such_metric"});
}

TEST_CASE("every metric the dashboard names is exported by a running bbmd", "[e2e][ops][dashboard]") {
  const auto wanted = dashboard_metrics(load_dashboard());
  REQUIRE(wanted.size() > 15);

  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 400);
  db.exec("CREATE TABLE t2 (id bigint PRIMARY KEY, a int NOT NULL, b bigint, changes int NOT NULL DEFAULT 0)");
  db.exec("INSERT INTO t2 (id, a) SELECT g, g FROM generate_series(1, 100) g");
  ConfigFile cfg(db, {{"database.backgroundmigrations.workers", "2"},
                      {"database.pool.maxopen", "4"},
                      {"database.backgroundmigrations.throttle.flagfile", "\"throttle.flag\""},
                      {"database.backgroundmigrations.maxjobretries", "1"}});
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  cfg.dir().write("functions/divide_by_zero.sql",
                  "UPDATE {{table}} SET b = a / 0 WHERE {{column}} BETWEEN $1 AND $2");
  const auto flag = cfg.dir().write("throttle.flag", "");  // throttled from the first pass

  bbmd::test::MigrationRow sub;
  sub.name = "20260101000001_touch_sub_batches";
  sub.job_signature_name = "touch";
  sub.job_arguments = "{}";
  sub.max_value = 400;
  sub.batch_size = 100;
  sub.sub_batch_size = 25;
  bbmd::test::queue_migration(db, sub);
  bbmd::e2e::queue_t_migration(db, "20260101000002_held", "not_in_this_build", 400, 100);
  bbmd::test::MigrationRow failing;
  failing.name = "20260101000003_fails";
  failing.table_name = "public.t2";
  failing.job_signature_name = "divide_by_zero";
  failing.job_arguments = "{}";
  failing.max_value = 100;
  bbmd::test::queue_migration(db, failing);
  // A job whose worker vanished: its lease expired long ago, so the next worker takes it over.
  bbmd::test::MigrationRow orphan;
  orphan.name = "20260101000004_orphaned_job";
  orphan.table_name = "public.t2";
  orphan.column_name = "id";
  orphan.job_signature_name = "touch";
  orphan.job_arguments = "{}";
  orphan.max_value = 100;
  const auto orphan_id = bbmd::test::queue_migration(db, orphan);
  db.exec("INSERT INTO background_migration_jobs (batched_background_migration_id, min_value, max_value, status, "
          "attempts, started_at, lease_owner, lease_token, lease_expires_at, batch_size) VALUES (" +
          std::to_string(orphan_id) + ", 1, 50, 1, 0, now() - interval '1 hour', 'ghost', " +
          "nextval('bbm_lease_token_seq'), now() - interval '1 minute', 50)");

  auto serve = bbmd::e2e::start_serve(cfg);
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port.has_value());
  REQUIRE(poll_until([&] { return bbmd::e2e::metric_sum(bbmd::e2e::http_get(*port, "/metrics").body,
                                                        "registry_bbm_throttle_seconds_total") > 0; }, 20s));
  std::filesystem::remove(flag);

  std::vector<std::string> absent;
  poll_until([&] {
    absent = missing(wanted, exported(bbmd::e2e::http_get(*port, "/metrics").body));
    return absent.empty();
  }, 45s, 500ms);
  std::string list;
  for (const auto& n : absent) list += n + " ";
  INFO("named by the dashboard but not exported: " << list);
  CHECK(absent.empty());
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(30s) == 0);
}

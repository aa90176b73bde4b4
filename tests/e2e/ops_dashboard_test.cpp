// The Grafana dashboard and the alert rules name only metrics bbmd exports, and a fresh bbmd
// exports them before any event: a `serve` with nothing queued has a sample of every metric they
// name except the per-migration ones (prometheus-cpp leaves a family without series out of the
// scrape), which start at 0 when a migration is first seen. Every panel is filtered by $namespace
// and $job (the per-migration ones by $migration too) and has a unit.
#include <signal.h>
#include <yaml-cpp/yaml.h>

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

std::vector<std::string> dashboard_exprs(const nlohmann::json& dashboard) {
  std::vector<std::string> exprs;
  collect_exprs(dashboard["panels"], exprs);
  return exprs;
}

std::vector<std::string> alert_exprs() {
  std::vector<std::string> exprs;
  const auto rules = YAML::LoadFile(bbmd::ops::source("deploy/prometheus/bbmd-alerts.yml").string());
  for (const auto& group : rules["groups"]) {
    for (const auto& rule : group["rules"]) exprs.push_back(rule["expr"].as<std::string>());
  }
  return exprs;
}

bool bbmd_metric(const std::string& name) { return name.starts_with("registry_") || name.starts_with("bbmd_"); }

// Every bbmd metric name (registry_* or bbmd_*) in the PromQL; label values in quotes do not
// count, so a legend or a matcher value never looks like a metric.
std::set<std::string> metrics_named(const std::vector<std::string>& exprs) {
  std::set<std::string> names;
  static const std::regex quoted("\"[^\"]*\"");
  static const std::regex ident("[a-zA-Z_:][a-zA-Z0-9_:]*");
  for (const auto& e : exprs) {
    const auto bare = std::regex_replace(e, quoted, "\"\"");
    for (std::sregex_iterator it(bare.begin(), bare.end(), ident), end; it != end; ++it) {
      if (bbmd_metric(it->str())) names.insert(it->str());
    }
  }
  return names;
}

struct Selector {
  std::string metric;
  std::string matchers;  // what is between the braces; empty when the metric has none
};

// Each use of a bbmd metric in the PromQL, with its matchers.
std::vector<Selector> selectors(const std::string& expr) {
  std::vector<Selector> out;
  static const std::regex use(R"re(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?)re");
  static const std::regex quoted("\"[^\"]*\"");
  const auto bare = std::regex_replace(expr, quoted, "\"\"");  // to find where metrics are, not values
  for (std::sregex_iterator it(bare.begin(), bare.end(), use), end; it != end; ++it) {
    if (!bbmd_metric((*it)[1].str())) continue;
    // The matchers from the original text: same position, values intact.
    const auto open = expr.find('{', static_cast<std::size_t>(it->position(1)));
    const bool braced = (*it)[2].matched;
    out.push_back({(*it)[1].str(), braced ? expr.substr(open + 1, expr.find('}', open) - open - 1) : ""});
  }
  return out;
}

// Sample names in a scrape (histograms show up as their _bucket, _sum and _count series), and
// the names of the samples that carry a migration_id.
struct Exported {
  std::set<std::string> samples;
  std::set<std::string> per_migration;
};

Exported exported(const std::string& scrape) {
  Exported out;
  std::istringstream in(scrape);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto name = line.substr(0, line.find_first_of("{ "));
    out.samples.insert(name);
    if (line.find("migration_id=") != std::string::npos) out.per_migration.insert(name);
  }
  return out;
}

std::vector<std::string> missing(const std::set<std::string>& wanted, const std::set<std::string>& have) {
  std::vector<std::string> out;
  for (const auto& n : wanted) {
    if (!have.contains(n)) out.push_back(n);
  }
  return out;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += n + " ";
  return out;
}

nlohmann::json load_dashboard() {
  std::ifstream in(bbmd::ops::source("deploy/grafana/bbmd-dashboard.json"));
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// The dashboard's metrics that it filters by $migration: the per-migration ones.
std::set<std::string> filtered_by_migration(const nlohmann::json& dashboard) {
  std::set<std::string> out;
  for (const auto& e : dashboard_exprs(dashboard)) {
    for (const auto& s : selectors(e)) {
      if (s.matchers.find("migration_name=~\"$migration\"") != std::string::npos) out.insert(s.metric);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("dashboard metric check catches a panel that names a missing metric", "[e2e][ops][dashboard]") {
  auto dashboard = load_dashboard();
  const auto names = metrics_named(dashboard_exprs(dashboard));
  CHECK(names.contains("registry_database_bbm_progress_percent"));
  CHECK(names.contains("registry_bbm_job_duration_seconds_bucket"));
  CHECK(!names.contains("registry_bbm_migration_status_failed"));
  std::string scrape;  // a scrape that has exactly what the real dashboard names
  for (const auto& n : names) scrape += n + "{migration_id=\"1\"} 5\n";
  CHECK(missing(names, exported(scrape).samples).empty());
  dashboard["panels"][0]["targets"][0]["expr"] = "sum(registry_bbm_no_such_metric) + registry_database_bbm_progress_percent";
  CHECK(missing(metrics_named(dashboard_exprs(dashboard)), exported(scrape).samples) ==
        std::vector<std::string>{"registry_bbm_no_such_metric"});
}

TEST_CASE("every dashboard panel has a unit and is filtered by $namespace and $job", "[e2e][ops][dashboard]") {
  const auto dashboard = load_dashboard();
  std::set<std::string> variables;
  for (const auto& v : dashboard["templating"]["list"]) variables.insert(v["name"].get<std::string>());
  CHECK(variables == std::set<std::string>{"datasource", "namespace", "job", "migration"});
  REQUIRE(dashboard["panels"].size() > 15);
  for (const auto& panel : dashboard["panels"]) {
    const auto title = panel["title"].get<std::string>();
    INFO(title);
    // A real unit: "short" and "none" say nothing, so panels that mix quantities are split.
    const auto unit = panel["fieldConfig"]["defaults"].value("unit", "");
    CHECK(!unit.empty());
    CHECK(unit != "short");
    CHECK(unit != "none");
    for (const auto& target : panel["targets"]) {
      for (const auto& s : selectors(target["expr"].get<std::string>())) {
        INFO(s.metric << "{" << s.matchers << "}");
        CHECK(s.matchers.find("namespace=~\"$namespace\"") != std::string::npos);
        CHECK(s.matchers.find("job=~\"$job\"") != std::string::npos);
      }
    }
  }
}

TEST_CASE("a fresh serve exports every metric the dashboard and alerts name, a migration's series start when seen",
          "[e2e][ops][dashboard]") {
  const auto dashboard = load_dashboard();
  auto exprs = dashboard_exprs(dashboard);
  const auto alerts = alert_exprs();
  exprs.insert(exprs.end(), alerts.begin(), alerts.end());
  const auto wanted = metrics_named(exprs);
  REQUIRE(wanted.size() > 20);
  const auto per_migration = filtered_by_migration(dashboard);
  REQUIRE(per_migration.size() > 5);

  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);  // a fresh install: `database migrate up`, nothing queued
  bbmd::e2e::make_table(db, 100);
  ConfigFile cfg(db);
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  auto serve = bbmd::e2e::start_serve(cfg);
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port.has_value());

  // Nothing queued: every metric is there but the per-migration ones. (The pending-migrations
  // gauge comes with the first check, at start.)
  Exported fresh;
  std::vector<std::string> absent;
  poll_until([&] {
    fresh = exported(bbmd::e2e::http_get(*port, "/metrics").body);
    absent.clear();
    for (const auto& name : wanted) {
      if (!per_migration.contains(name) && !fresh.samples.contains(name)) absent.push_back(name);
    }
    return absent.empty();
  }, 10s, 200ms);
  INFO("named but without a sample in a fresh serve: " << joined(absent));
  CHECK(absent.empty());
  CHECK(fresh.per_migration.empty());

  // One migration that runs and one held (a work function this build lacks): each one's series
  // start at 0 when it is first seen, before any job counts.
  bbmd::e2e::queue_t_migration(db, "20260101000001_touch", "touch", 100, 50);
  bbmd::e2e::queue_t_migration(db, "20260101000002_held", "not_in_this_build", 100, 50);
  Exported seen;
  poll_until([&] {
    seen = exported(bbmd::e2e::http_get(*port, "/metrics").body);
    return missing(per_migration, seen.samples).empty();
  }, 30s, 200ms);
  INFO("per-migration metrics without a sample once migrations ran: " << joined(missing(per_migration, seen.samples)));
  CHECK(missing(per_migration, seen.samples).empty());
  // What the dashboard filters by $migration is exactly what bbmd labels with a migration.
  std::set<std::string> labelled;
  for (const auto& name : wanted) {
    if (seen.per_migration.contains(name)) labelled.insert(name);
  }
  CHECK(labelled == per_migration);
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(30s) == 0);
}

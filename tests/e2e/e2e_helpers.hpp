#pragma once
// Helpers for the end-to-end tests: JSON log and
// Prometheus text parsing, target tables, SQL work functions, and starting `bbmd serve` on a config.
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/bbm_fixture.hpp"
#include "support/poll.hpp"
#include "support/process.hpp"
#include "support/http_client.hpp"
#include "support/test_db.hpp"

namespace bbmd::e2e {

using HttpResponse = test::HttpReply;
using test::http_get;

inline bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// A command's exit code and output, for a failing check's message.
inline std::string show(const test::CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout:\n" + r.out + "--- stderr:\n" + r.err;
}

// Every stderr line that parses as a JSON object.
inline std::vector<nlohmann::json> json_lines(const std::string& log) {
  std::vector<nlohmann::json> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

// The lines with this component and msg.
inline std::vector<nlohmann::json> log_lines(const std::string& log, const std::string& component,
                                             const std::string& msg) {
  std::vector<nlohmann::json> out;
  for (auto& j : json_lines(log)) {
    if (j.value("component", "") == component && j.value("msg", "") == msg) out.push_back(std::move(j));
  }
  return out;
}

// The value of the sample whose name-and-labels part is exactly `series`
// (e.g. `registry_bbm_runs_total` or `x_total{a="1",b="2"}`), nullopt if absent.
inline std::optional<double> metric_value(const std::string& scrape, const std::string& series) {
  std::istringstream in(scrape);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

// The sum over every sample of metric `name`, whatever its labels.
inline double metric_sum(const std::string& scrape, const std::string& name) {
  double sum = 0;
  std::istringstream in(scrape);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != '{' && next != ' ') continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

using test::make_table;

// Work function SQL: touches each row of the batch once; with a sleep, once per batch.
inline std::string touch_sql() {
  return "UPDATE {{table}} SET changes = changes + 1, b = a WHERE {{column}} BETWEEN $1 AND $2";
}
inline std::string sleepy_touch_sql(const std::string& seconds) {
  return "WITH s AS (SELECT pg_sleep(" + seconds +
         ") AS slept) UPDATE {{table}} SET changes = changes + 1, b = a FROM s WHERE {{column}} BETWEEN $1 AND $2";
}

// A migration over public.t driven by the SQL work function `function`.
inline std::int64_t queue_t_migration(test::TestDatabase& db, const std::string& name, const std::string& function,
                                      int rows, int batch_size) {
  test::MigrationRow row;
  row.name = name;
  row.job_signature_name = function;
  row.job_arguments = "{}";
  row.max_value = rows;
  row.batch_size = batch_size;
  return test::queue_migration(db, row);
}

// `bbmd serve <config>`, started and waited for until it logs "bbmd serving".
inline std::unique_ptr<test::BbmdProcess> start_serve(const test::ConfigFile& cfg) {
  auto p = std::make_unique<test::BbmdProcess>(std::vector<std::string>{"serve", cfg.path()});
  if (!p->wait_for_log("\"msg\":\"bbmd serving\"", std::chrono::seconds(10))) {
    throw std::runtime_error("bbmd serve did not start; stderr:\n" + p->err());
  }
  return p;
}

inline std::string migration_status(test::TestDatabase& db, std::int64_t id) {
  return db.scalar("SELECT status FROM batched_background_migrations WHERE id = " + std::to_string(id));
}

// True once a backend of this database (not ours) is sleeping inside a batch.
inline bool batch_is_sleeping(test::TestDatabase& db) {
  return db.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                  "AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%pg_sleep%' "
                  "AND wait_event = 'PgSleep'") > 0;
}

}  // namespace bbmd::e2e

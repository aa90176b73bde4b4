// Migration status rows and their renderings (see migrate_status.hpp).
#include "schema/migrate_status.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "schema/plan.hpp"

namespace bbmd::schema {

namespace {

std::string state_of(const Record* r) {
  if (!r) return "pending";
  return r->failed ? "failed" : "applied";
}

std::string detail(const StatusRow& row) {
  const auto* r = row.record;
  if (!r) return "";
  if (r->failed) return "failed at " + r->failed_at.value_or("?") + " on " + r->host + ": " + r->error.value_or("");
  std::string s = r->applied_at.value_or("?") + "  " + r->host;
  if (r->duration_ms) s += "  " + std::to_string(*r->duration_ms) + "ms";
  if (r->marked_reason) s += "  marked applied: " + *r->marked_reason;
  if (row.state == "unknown") s += "  (not in this build)";
  return s;
}

}  // namespace

std::vector<StatusRow> status_rows(const MigrationSet& migrations, const Records& records) {
  std::vector<StatusRow> rows;
  for (const auto& k : migrations.all) {
    const auto* r = records.find(k.version());
    rows.push_back({k.version(), std::string(kind_name(k.kind)), state_of(r), r});
  }
  for (const auto* r : unknown_records(migrations, records)) {
    rows.push_back({r->version, r->post ? "post" : "pre", "unknown", r});
  }
  return rows;
}

PendingCounts pending_counts(const MigrationSet& migrations, const Records& records) {
  PendingCounts c;
  for (const auto& k : migrations.all) {
    if (!records.applied(k.version())) ++(is_post(k.kind) ? c.post : c.pre);
  }
  return c;
}

std::string render_status_table(const std::vector<StatusRow>& rows) {
  std::string out = "KIND  STATE    VERSION                                            APPLIED AT / DETAILS\n";
  char line[160];
  for (const auto& row : rows) {
    std::snprintf(line, sizeof line, "%-5s %-8s %-50s ", row.kind.c_str(), row.state.c_str(), row.version.c_str());
    out += line + detail(row) + "\n";
  }
  const auto count = [&](const char* state) {
    int n = 0;
    for (const auto& r : rows) n += r.state == state;
    return std::to_string(n);
  };
  out += count("applied") + " applied, " + count("pending") + " pending, " + count("failed") + " failed, " +
         count("unknown") + " unknown\n";
  return out;
}

std::string render_status_json(const std::vector<StatusRow>& rows) {
  auto out = nlohmann::json::array();
  for (const auto& row : rows) {
    nlohmann::json j = {{"version", row.version}, {"kind", row.kind}, {"state", row.state}};
    const auto* r = row.record;
    const auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    j["applied_at"] = r && !r->failed ? opt(r->applied_at) : nlohmann::json(nullptr);
    j["duration_ms"] = r ? opt(r->duration_ms) : nlohmann::json(nullptr);
    j["host"] = r ? nlohmann::json(r->host) : nlohmann::json(nullptr);
    j["failed_at"] = r ? opt(r->failed_at) : nlohmann::json(nullptr);
    j["error"] = r && r->failed ? opt(r->error) : nlohmann::json(nullptr);
    j["marked_reason"] = r ? opt(r->marked_reason) : nlohmann::json(nullptr);
    j["queued_bbms"] = r ? nlohmann::json(r->queued_bbms) : nlohmann::json::array();
    out.push_back(std::move(j));
  }
  return out.dump(2) + "\n";
}

std::string render_version(const Records& records) {
  // The newest applied version per table, unknown ones included: they are what the database is at.
  std::string pre, post;
  for (const auto& [version, r] : records.by_version) {
    if (!r.failed) (r.post ? post : pre) = std::max(r.post ? post : pre, version);
  }
  return "pre-deployment: " + (pre.empty() ? "none" : pre) + "\npost-deployment: " + (post.empty() ? "none" : post) +
         "\n";
}

}  // namespace bbmd::schema

// Table and JSON forms of `background-migrate status`.
#include "bbm/status_report.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "bbm/status.hpp"

namespace bbmd::bbm {

namespace {

std::string status_name(int status) {
  const auto s = migration_status_from(status);
  return s ? std::string(to_string(*s)) : "unknown(" + std::to_string(status) + ")";
}

std::string fixed(double value, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// Failure code, else hold reason, else nothing: what an operator must act on.
std::string note_for(const Progress& p) {
  if (p.failure_error_code) {
    const auto code = static_cast<FailureCode>(*p.failure_error_code);
    std::string note = "code " + std::to_string(*p.failure_error_code) + " " + std::string(to_string(code));
    if (p.last_error && !p.last_error->empty()) note += ": " + *p.last_error;
    return note;
  }
  if (p.hold_reason) return "held: " + *p.hold_reason;
  return "";
}

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

}  // namespace

std::string format_eta(const std::optional<double>& seconds) {
  if (!seconds) return "-";
  auto s = static_cast<long long>(*seconds + 0.5);
  const long long h = s / 3600, m = (s % 3600) / 60;
  s %= 60;
  char buf[32];
  if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", h, m);
  } else if (m > 0) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", m, s);
  } else {
    std::snprintf(buf, sizeof buf, "%llds", s);
  }
  return buf;
}

std::string render_status_table(const std::vector<Progress>& migrations) {
  const std::vector<std::string> header{"NAME", "STATUS", "PROGRESS", "JOBS", "ROWS/S", "ETA", "NOTE"};
  std::vector<std::vector<std::string>> rows{header};
  for (const auto& p : migrations) {
    rows.push_back({p.name, status_name(p.status), fixed(p.percent, "%.1f%%"),
                    std::to_string(p.finished_jobs) + "/" + std::to_string(p.total_jobs),
                    fixed(p.rows_per_second, "%.0f"), format_eta(p.eta_seconds), note_for(p)});
  }
  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  if (migrations.empty()) out += "(no batched background migrations)\n";
  return out;
}

std::string render_status_json(const std::vector<Progress>& migrations) {
  auto list = nlohmann::json::array();
  for (const auto& p : migrations) {
    nlohmann::json j = {{"id", p.id},
                        {"name", p.name},
                        {"status", status_name(p.status)},
                        {"status_code", p.status},
                        {"table_name", p.table_name},
                        {"job_signature_name", p.job_signature_name},
                        {"progress_percent", p.percent},
                        {"jobs_finished", p.finished_jobs},
                        {"jobs_failed", p.failed_jobs},
                        {"jobs_active", p.active_jobs},
                        {"jobs_total", p.total_jobs},
                        {"rows_affected", p.rows_affected},
                        {"rows_per_second", p.rows_per_second},
                        {"eta_seconds", or_null(p.eta_seconds)},
                        {"total_tuple_count", or_null(p.total_tuple_count)},
                        {"failure_error_code", or_null(p.failure_error_code)},
                        {"hold_reason", or_null(p.hold_reason)},
                        {"last_error", or_null(p.last_error)},
                        {"started_at", or_null(p.started_at)},
                        {"finished_at", or_null(p.finished_at)}};
    if (p.failure_error_code) j["failure"] = to_string(static_cast<FailureCode>(*p.failure_error_code));
    list.push_back(std::move(j));
  }
  return nlohmann::json{{"migrations", list}}.dump(2) + "\n";
}

}  // namespace bbmd::bbm

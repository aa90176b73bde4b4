// Table and JSON forms of `background-migrate status`.
#include "bbm/report/status_render.hpp"

#include <algorithm>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "bbm/model/status_codes.hpp"

namespace bbmd::bbm {

namespace {

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

// Red for what needs an operator, yellow for what waits on one, green for done.
const char* colour_of(int status) {
  switch (status) {
    case 0: return "\x1b[33m";
    case 2: return "\x1b[32m";
    case 3: return "\x1b[31m";
    default: return "\x1b[36m";
  }
}
constexpr const char* kReset = "\x1b[0m";
constexpr std::size_t kStatusColumn = 1;
constexpr int kBarWidth = 30;

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

}  // namespace

std::string status_name(int status) {
  const auto s = migration_status_from(status);
  return s ? std::string(to_string(*s)) : "unknown(" + std::to_string(status) + ")";
}

std::string format_eta(const std::optional<double>& seconds) {
  if (!seconds) return "-";
  // Beyond this the figure means nothing (and would overflow the conversion below).
  constexpr double kLongest = 99999.0 * 3600;
  if (*seconds > kLongest) return ">99999h";
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

std::string render_status_table(const std::vector<Progress>& migrations, bool colour) {
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
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      // Widths count the visible text only, so colour codes never shift the columns.
      const bool paint = colour && r > 0 && c == kStatusColumn;
      line += paint ? colour_of(migrations[r - 1].status) + row[c] + kReset : row[c];
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
  for (const auto& p : migrations) list.push_back(progress_json(p));
  return nlohmann::json{{"migrations", list}}.dump(2) + "\n";
}

bool stdout_wants_colour() { return ::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr; }

std::string render_progress_line(const Progress& p, bool terminal) {
  const auto rate = fixed(p.rows_per_second, "%.0f");
  const auto jobs = std::to_string(p.finished_jobs) + "/" + std::to_string(p.total_jobs);
  if (!terminal) {
    return p.name + ": " + fixed(p.percent, "%.1f%%") + " (" + jobs + " jobs finished, " + rate + " rows/s, ETA " +
           format_eta(p.eta_seconds) + ")";
  }
  const int filled = std::clamp(static_cast<int>(p.percent / 100.0 * kBarWidth + 0.5), 0, kBarWidth);
  std::string line = "\r\x1b[K" + p.name + " [" + std::string(static_cast<std::size_t>(filled), '#') +
                     std::string(static_cast<std::size_t>(kBarWidth - filled), '.') + "] " +
                     fixed(p.percent, "%5.1f%%") + "  " + jobs + " jobs  " + rate + " rows/s  ETA " +
                     format_eta(p.eta_seconds);
  return p.status == 2 ? line + "\n" : line;  // a finished bar keeps its line
}

nlohmann::json progress_json(const Progress& p) {
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
  return j;
}

}  // namespace bbmd::bbm

// The status page at "/": one HTML table of every migration with a progress bar, rate and ETA.
// Plain HTML that reloads itself (no script), sized for a phone as well as a desktop.
#include <cstdio>

#include "bbm/report/status_render.hpp"
#include "http/admin.hpp"

namespace bbmd::http {
namespace {

constexpr const char* kStyle = R"(
body{font-family:system-ui,sans-serif;margin:0;padding:12px;background:#fafafa;color:#222}
h1{font-size:1.2rem;margin:0 0 8px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:6px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td.name{word-break:break-all}
progress{width:100%;min-width:80px;height:1rem}
.status-failed{color:#b00020;font-weight:600}.status-paused{color:#8a6d00}.status-finished{color:#1b5e20}
.note{color:#555;font-size:.85rem}
@media (max-width:600px){thead{display:none}tr{display:block;border-bottom:2px solid #ccc;padding:4px 0}
td{display:flex;justify-content:space-between;gap:12px;border:0;padding:3px 4px}
td::before{content:attr(data-label);font-weight:600;color:#555}td.name{display:block}td.name::before{content:none}}
)";

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fixed(double value, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::string cell(const char* label, const std::string& html, const char* cls = nullptr) {
  std::string out = "<td data-label=\"" + std::string(label) + "\"";
  if (cls) out += " class=\"" + std::string(cls) + "\"";
  return out + ">" + html + "</td>";
}

// Failure, else hold reason: what the operator must act on.
std::string note(const bbm::Progress& p) {
  std::string text;
  if (p.failure_error_code) {
    text = "code " + std::to_string(*p.failure_error_code);
    if (p.last_error && !p.last_error->empty()) text += ": " + *p.last_error;
  } else if (p.hold_reason) {
    text = "held: " + *p.hold_reason;
  }
  return "<span class=\"note\">" + escape(text) + "</span>";
}

std::string row(const bbm::Progress& p) {
  const auto status = bbm::status_name(p.status);
  const auto percent = fixed(p.percent, "%.1f");
  std::string out = "<tr data-id=\"" + std::to_string(p.id) + "\">";
  out += cell("Migration", escape(p.name), "name");
  out += cell("Status", "<span class=\"status-" + escape(status) + "\">" + escape(status) + "</span>");
  out += cell("Progress", "<progress max=\"100\" value=\"" + percent + "\">" + percent + "%</progress> " + percent + "%");
  out += cell("Jobs", std::to_string(p.finished_jobs) + "/" + std::to_string(p.total_jobs));
  out += cell("Rows/s", fixed(p.rows_per_second, "%.0f"));
  out += cell("ETA", escape(bbm::format_eta(p.eta_seconds)));
  out += cell("Note", note(p));
  return out + "</tr>\n";
}

}  // namespace

std::string render_status_page(const std::vector<bbm::Progress>& migrations, int refresh_seconds) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta http-equiv=\"refresh\" content=\"" + std::to_string(refresh_seconds) + "\">\n";
  out += "<title>bbmd: background migrations</title>\n<style>" + std::string(kStyle) + "</style></head>\n<body>\n";
  out += "<h1>Batched background migrations</h1>\n<table id=\"migrations\">\n<thead><tr><th>Migration</th>"
         "<th>Status</th><th>Progress</th><th>Jobs</th><th>Rows/s</th><th>ETA</th><th>Note</th></tr></thead>\n<tbody>\n";
  for (const auto& p : migrations) out += row(p);
  if (migrations.empty()) out += "<tr><td colspan=\"7\">No batched background migrations.</td></tr>\n";
  out += "</tbody></table>\n<p class=\"note\">Reloads every " + std::to_string(refresh_seconds) +
         " s. JSON: <a href=\"/api/v1/migrations\">/api/v1/migrations</a></p>\n</body></html>\n";
  return out;
}

}  // namespace bbmd::http

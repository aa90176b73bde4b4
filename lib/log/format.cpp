// Renders one log line: compact JSON (the default, what dashboards parse) or logfmt-like text.
#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>

#include "log/log.hpp"

namespace bbmd::log {
namespace {

constexpr std::string_view kReserved[] = {"time", "level", "msg", "component"};

bool reserved(std::string_view key) {
  for (auto r : kReserved) {
    if (r == key) return true;
  }
  return false;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

// RFC 3339 in UTC with milliseconds: 2026-11-21T10:00:00.123Z.
std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms));
  return std::string(buf, n) + frac;
}

// Invalid UTF-8 (e.g. from a server error message) is replaced rather than throwing.
std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// log.fields: set once at startup, read by every line on any thread.
std::atomic<std::shared_ptr<const Fields>> g_fields{std::make_shared<const Fields>(Fields::object())};

// The caller's fields, then the configured ones the caller did not set, without the four keys
// every line owns. A non-object is kept under "fields".
template <typename Emit>
void each_field(const Fields& fields, Emit emit) {
  if (!fields.is_null() && !fields.is_object()) {
    emit("fields", fields);
  } else if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) {
      if (!reserved(key)) emit(key, value);
    }
  }
  const auto configured = g_fields.load();
  for (const auto& [key, value] : configured->items()) {
    const bool set_by_caller = fields.is_object() ? fields.contains(key) : (!fields.is_null() && key == "fields");
    if (!reserved(key) && !set_by_caller) emit(key, value);
  }
}

std::string json_line(std::string_view time, Level level, std::string_view component, std::string_view msg,
                      const Fields& fields) {
  std::string line = "{\"time\":" + dump(time) + ",\"level\":" + dump(level_name(level)) +
                     ",\"msg\":" + dump(msg) + ",\"component\":" + dump(component);
  each_field(fields, [&](std::string_view key, const nlohmann::json& value) {
    line += "," + dump(key) + ":" + dump(value);
  });
  return line + "}";
}

bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  for (unsigned char c : s) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

std::string quote_if_needed(std::string_view s) { return needs_quotes(s) ? dump(s) : std::string(s); }

std::string text_value(const nlohmann::json& value) {
  return value.is_string() ? quote_if_needed(value.get_ref<const std::string&>()) : quote_if_needed(dump(value));
}

std::string text_line(std::string_view time, Level level, std::string_view component, std::string_view msg,
                      const Fields& fields) {
  std::string line = "time=" + std::string(time) + " level=" + std::string(level_name(level)) +
                     " component=" + quote_if_needed(component) + " msg=" + dump(msg);
  each_field(fields, [&](std::string_view key, const nlohmann::json& value) {
    line += " " + quote_if_needed(key) + "=" + text_value(value);
  });
  return line;
}

}  // namespace

void set_fields(const Fields& fields) {
  g_fields.store(std::make_shared<const Fields>(fields.is_object() ? fields : Fields::object()));
}

std::string format_line(std::string_view formatter, Level level, std::string_view component, std::string_view msg,
                        const Fields& fields) {
  if (formatter == "json") return json_line(now_rfc3339(), level, component, msg, fields);
  if (formatter == "text") return text_line(now_rfc3339(), level, component, msg, fields);
  throw std::invalid_argument("unknown log formatter \"" + std::string(formatter) + "\" (expected json or text)");
}

}  // namespace bbmd::log

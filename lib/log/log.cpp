// The process-wide stderr sink and the level/formatter switches that Logger consults.
#include "log/log.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <stdexcept>

#include "log/journal.hpp"

namespace bbmd::log {
namespace {

// Atomics rather than a mutex: every log call reads them, SIGHUP reload rarely writes them.
std::atomic<Level> g_level{Level::info};
std::atomic<bool> g_json{true};

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::trace: return spdlog::level::trace;
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Not registered in spdlog's registry, so nothing else can reconfigure or drop it.
spdlog::logger& sink() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("bbmd", stderr_sink());  // journald's priorities under systemd
    l->set_pattern("%v");  // format_line renders the whole line
    l->set_level(spdlog::level::trace);  // filtering happens in Logger::log, before rendering
    // Every line is flushed: children's stderr is read by tests and by container log collectors.
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

Level parse_level(std::string_view name) {
  if (name == "trace") return Level::trace;
  if (name == "debug") return Level::debug;
  if (name == "info") return Level::info;
  if (name == "warn") return Level::warn;
  if (name == "error") return Level::error;
  throw std::invalid_argument("unknown log level \"" + std::string(name) +
                              "\" (expected trace, debug, info, warn or error)");
}

bool parse_formatter(std::string_view name) {
  if (name == "json") return true;
  if (name == "text") return false;
  throw std::invalid_argument("unknown log formatter \"" + std::string(name) + "\" (expected json or text)");
}

}  // namespace

void setup(std::string_view level, std::string_view formatter) {
  const Level parsed_level = parse_level(level);
  const bool json = parse_formatter(formatter);  // both parsed before either is applied
  g_level.store(parsed_level);
  g_json.store(json);
  sink();
}

void set_level(std::string_view level) { g_level.store(parse_level(level)); }

void Logger::log(Level level, std::string_view msg, const Fields& fields) const {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  try {
    const std::string line = format_line(g_json.load() ? "json" : "text", level, component_, msg, fields);
    sink().log(to_spdlog(level), spdlog::string_view_t(line.data(), line.size()));
  } catch (...) {
    // A log call must never take down the caller; losing one line is the lesser harm.
  }
}

}  // namespace bbmd::log

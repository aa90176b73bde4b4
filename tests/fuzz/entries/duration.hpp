#pragma once
// Go-style duration strings (config values such as "1m30s"): parsed, or rejected with a reason;
// whatever parses prints back (format_duration) to text that parses to the same value.
#include "config/duration.hpp"
#include "fuzz/entry.hpp"

namespace bbmd::fuzz {

inline std::string duration(std::string_view input) {
  config::Duration parsed{};
  try {
    parsed = config::parse_duration(input);
  } catch (const config::DurationError& e) {
    return rejected(e.what());
  }
  require(parsed.count() >= 0, "negative duration parsed");
  const std::string printed = config::format_duration(parsed);
  require(config::parse_duration(printed) == parsed, "\"" + printed + "\" does not parse back");
  return "ok: " + std::to_string(parsed.count()) + "ms";
}

}  // namespace bbmd::fuzz

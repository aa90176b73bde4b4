#pragma once
// Go-style duration strings ("1m30s", "500ms", "1.5s"), as the registry's config files use them.
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace bbmd::config {

// Why a duration string was rejected; the message is the reason only, callers add key and value.
class DurationError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Accepts Go's grammar: one or more <number><unit> with units ns, us, µs, ms, s, m, h, plus a
// bare "0". Negative values and bare numbers are rejected. Sub-millisecond remainders round up,
// so a non-zero duration never collapses to 0 (which often means "disabled").
[[nodiscard]] Duration parse_duration(std::string_view text);

// Renders a duration so parse_duration reads it back: "0s", "500ms", "1m30s", "2h".
[[nodiscard]] std::string format_duration(Duration d);

}  // namespace bbmd::config

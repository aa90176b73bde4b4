#pragma once
// Measured values as words for Stop::detail: "1.5 GiB", "12.4s".
#include <string>

namespace bbmd::throttle {

[[nodiscard]] std::string bytes_text(double bytes);      // binary units, one decimal: "512 B", "1.5 MiB"
[[nodiscard]] std::string seconds_text(double seconds);  // one decimal: "0.4s", "3600.0s"

}  // namespace bbmd::throttle

// Text formatting of bound parameters that cannot be formatted inline in params.hpp.
#include "db/params.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace bbmd::db {

Param::Param(double v) {
  // PostgreSQL's float8 input does not accept "inf"/"nan" spelled the C way.
  if (std::isnan(v)) {
    value_ = "NaN";
  } else if (std::isinf(v)) {
    value_ = v > 0 ? "Infinity" : "-Infinity";
  } else {
    // Shortest form that round-trips exactly (std::to_chars without precision).
    std::array<char, 64> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    value_ = std::string(buf.data(), ec == std::errc{} ? end : buf.data());
  }
}

}  // namespace bbmd::db

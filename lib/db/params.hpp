#pragma once
// Bound query parameters, always sent in text format. Values never become SQL text.
#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bbmd::db {

class Param {
 public:
  Param(std::nullopt_t) {}
  Param(std::string v) : value_(std::move(v)) {}
  Param(std::string_view v) : value_(std::string(v)) {}
  Param(const char* v) : value_(std::string(v)) {}
  Param(bool v) : value_(v ? "true" : "false") {}
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  Param(T v) : value_(std::to_string(v)) {}
  Param(double v);
  // A duration as PostgreSQL's time settings take it (statement_timeout, lock_timeout): "<n>ms".
  Param(std::chrono::milliseconds v) : value_(std::to_string(v.count()) + "ms") {}
  template <typename T>
  Param(const std::optional<T>& v) {
    if (v) value_ = Param(*v).value_;
  }
  [[nodiscard]] const std::optional<std::string>& value() const noexcept { return value_; }

 private:
  std::optional<std::string> value_;
};

using Params = std::vector<Param>;

}  // namespace bbmd::db

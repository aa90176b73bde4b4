#pragma once
// What validation decided about a migration: run it, fail it with a code, or hold it with a reason.
#include <string>

#include "bbm/model/status_codes.hpp"

namespace bbmd::bbm {

struct Verdict {
  enum class Kind { run, fail, hold } kind = Kind::run;
  FailureCode code = FailureCode::unknown;  // for fail
  std::string hold_code;                    // for hold: one of the kHold... codes of status_codes.hpp
  std::string reason;                       // human-readable, shown in status and logs

  static Verdict ok() { return {}; }
  static Verdict failure(FailureCode c, std::string why) { return {Kind::fail, c, {}, std::move(why)}; }
  static Verdict held(std::string_view hold, std::string why) {
    return {Kind::hold, FailureCode::unknown, std::string(hold), std::move(why)};
  }
  [[nodiscard]] bool runnable() const noexcept { return kind == Kind::run; }
};

}  // namespace bbmd::bbm

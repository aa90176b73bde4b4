#pragma once
// The admin API's Authorization check: the configured token, a NUL byte, then the header as a
// client sent it. The outcome is the status check_bearer answers (0: allowed). Allowed only with
// a configured token that the header carries; "Bearer <token>" exactly is always allowed.
#include "fuzz/entry.hpp"
#include "http/admin.hpp"

namespace bbmd::fuzz {

inline std::string admin_bearer(std::string_view input) {
  const auto [token, authorization] = split_at_nul(input);
  const unsigned status = http::check_bearer(authorization, token);
  require(status == 0 || status == 401 || status == 403, "unexpected status " + std::to_string(status));
  if (status == 0) {
    require(!token.empty() && authorization.find(token) != std::string_view::npos,
            "allowed without carrying the token");
  }
  const bool plain_token = !token.empty() && token.front() != ' ' && token.back() != ' ';
  if (plain_token && authorization == "Bearer " + std::string(token)) require(status == 0, "exact header refused");
  return "status " + std::to_string(status);
}

}  // namespace bbmd::fuzz

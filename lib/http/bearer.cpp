// Bearer-token check for the admin API's mutating endpoints (RFC 6750 header form only).
#include <cctype>

#include "http/admin.hpp"

namespace bbmd::http {
namespace {

// Compares every byte whatever the mismatch, so the time taken does not reveal a prefix.
// `secret` is never empty here (check_bearer refuses first).
bool same_secret(std::string_view presented, std::string_view secret) {
  unsigned char diff = presented.size() == secret.size() ? 0 : 1;
  for (std::size_t i = 0; i < presented.size(); ++i) {
    diff |= static_cast<unsigned char>(presented[i] ^ secret[i % secret.size()]);
  }
  return diff == 0;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

unsigned check_bearer(std::string_view authorization, std::string_view token) {
  if (token.empty()) return 403;  // no token configured: the mutating endpoints are switched off
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() || !iequals(authorization.substr(0, kScheme.size()), kScheme)) {
    return 401;
  }
  auto presented = authorization.substr(kScheme.size());
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
  while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);
  if (presented.empty()) return 401;
  return same_secret(presented, token) ? 0 : 403;
}

}  // namespace bbmd::http

// SQLSTATE -> ErrorKind: the one place that decides what a database error means for the caller.
#include "db/error.hpp"

#include <initializer_list>
#include <string_view>

namespace bbmd::db {

namespace {

bool has_class(std::string_view sqlstate, std::string_view cls) { return sqlstate.substr(0, 2) == cls; }

bool is_one_of(std::string_view sqlstate, std::initializer_list<std::string_view> codes) {
  for (auto code : codes) {
    if (sqlstate == code) return true;
  }
  return false;
}

}  // namespace

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::connection_lost: return "connection_lost";
    case ErrorKind::query_canceled: return "query_canceled";
    case ErrorKind::lock_timeout: return "lock_timeout";
    case ErrorKind::retryable_conflict: return "retryable_conflict";
    case ErrorKind::undefined_object: return "undefined_object";
    case ErrorKind::insufficient_privilege: return "insufficient_privilege";
    case ErrorKind::data_error: return "data_error";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::prepared_statement_missing: return "prepared_statement_missing";
    case ErrorKind::other: return "other";
  }
  return "other";
}

ErrorKind classify_sqlstate(const std::string& sqlstate) noexcept {
  if (sqlstate.size() != 5) return ErrorKind::other;
  // Class 08 is "connection exception"; 57P01..57P03 mean the server is going away
  // (admin shutdown, crash shutdown, cannot connect now): either way this session is done.
  if (has_class(sqlstate, "08") || is_one_of(sqlstate, {"57P01", "57P02", "57P03"})) {
    return ErrorKind::connection_lost;
  }
  if (sqlstate == "57014") return ErrorKind::query_canceled;
  if (sqlstate == "55P03") return ErrorKind::lock_timeout;
  if (is_one_of(sqlstate, {"40001", "40P01"})) return ErrorKind::retryable_conflict;
  if (is_one_of(sqlstate, {"42P01", "42703", "42883", "3F000"})) return ErrorKind::undefined_object;
  if (sqlstate == "42501") return ErrorKind::insufficient_privilege;
  if (has_class(sqlstate, "22") || has_class(sqlstate, "23")) return ErrorKind::data_error;
  return ErrorKind::other;
}

}  // namespace bbmd::db

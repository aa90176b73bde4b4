// SQLSTATE -> ErrorKind: the one place that decides what a database error means for the caller.
#include "db/error.hpp"

#include <algorithm>
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

// Five digits or capital letters: the shape of every SQLSTATE.
bool is_sqlstate(std::string_view text) {
  return text.size() == 5 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); });
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

std::string server_condition(const std::string& sqlstate) {
  if (sqlstate == "53100") return "the database server is out of disk space";
  if (sqlstate == "53200") return "the database server is out of memory";
  if (sqlstate == "53300") return "the database server has too many connections";
  if (has_class(sqlstate, "53")) return "the database server lacks the resources for this";
  if (sqlstate == "57P01") return "the database server is shutting down or ended this session";
  if (sqlstate == "57P02") {
    return "the database server crashed (another server process exited abnormally; the server's log says why)";
  }
  if (sqlstate == "57P03") return "the database server is starting up or recovering";
  return "";
}

std::string describe_server_error(const std::string& sqlstate, const std::string& message) {
  const auto condition = server_condition(sqlstate);
  if (condition.empty()) return message;
  return condition + " (SQLSTATE " + sqlstate + "): " + message;
}

LibpqMessage parse_verbose_message(const std::string& message) {
  LibpqMessage out;
  std::size_t start = 0;
  while (start <= message.size()) {
    auto end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    std::string line = message.substr(start, end - start);
    start = end + 1;
    if (line.starts_with("LOCATION:  ")) continue;
    // "<severity>:  <SQLSTATE>: <primary message>"
    const auto colon = line.find(":  ");
    const std::string_view after =
        colon == std::string::npos ? std::string_view() : std::string_view(line).substr(colon + 3);
    if (after.size() >= 7 && is_sqlstate(after.substr(0, 5)) && after.substr(5, 2) == ": ") {
      if (out.sqlstate.empty()) out.sqlstate = line.substr(colon + 3, 5);
      line.erase(colon + 3, 7);
    }
    if (!out.text.empty()) out.text += '\n';
    out.text += line;
  }
  return out;
}

}  // namespace bbmd::db

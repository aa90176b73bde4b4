// Migration names and header directives.
#include "schema/migration_file.hpp"

#include <sstream>
#include <stdexcept>

namespace bbmd::schema {

namespace {

constexpr std::string_view kPrefix = "-- bbmd:";

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

Directives parse_directives(const std::string& up_sql) {
  Directives d;
  std::istringstream in(up_sql);
  std::string raw;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    const auto line = trim(raw);
    if (line.empty()) continue;
    if (line.rfind("--", 0) != 0) break;
    if (line.rfind(kPrefix, 0) != 0) continue;
    const auto body = trim(line.substr(kPrefix.size()));
    const auto space = body.find(' ');
    const auto word = body.substr(0, space);
    const auto arg = space == std::string::npos ? "" : trim(body.substr(space));
    if (word == "requires-bbm" && !arg.empty()) {
      d.requires_bbms.push_back(arg);
    } else if (word == "no-transaction" && arg.empty()) {
      d.no_transaction = true;
    } else if (word == "required-stop" && arg.empty()) {
      d.required_stop = true;
    } else {
      throw std::invalid_argument("line " + std::to_string(number) + ": unknown or malformed directive '" + line +
                                  "' (expected bbmd:requires-bbm <name>, bbmd:no-transaction or bbmd:required-stop)");
    }
  }
  return d;
}

bool valid_version(const std::string& version) {
  if (version.size() < 16 || version[14] != '_') return false;
  for (std::size_t i = 0; i < 14; ++i) {
    if (version[i] < '0' || version[i] > '9') return false;
  }
  for (std::size_t i = 15; i < version.size(); ++i) {
    const char c = version[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace bbmd::schema

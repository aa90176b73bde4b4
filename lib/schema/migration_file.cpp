// Migration names and header directives.
#include "schema/migration_file.hpp"

#include <ctime>
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

std::string timestamp_of(const std::string& version) { return version.substr(0, 14); }

std::string utc_timestamp(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

bool valid_timestamp(const std::string& ts) {
  if (ts.size() != 14 || ts.find_first_not_of("0123456789") != std::string::npos) return false;
  const auto num = [&](std::size_t at, std::size_t len) { return std::stoi(ts.substr(at, len)); };
  const int year = num(0, 4), month = num(4, 2), day = num(6, 2);
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] || (month == 2 && day == 29 && !leap)) return false;
  return num(8, 2) < 24 && num(10, 2) < 60 && num(12, 2) < 60;
}

}  // namespace bbmd::schema

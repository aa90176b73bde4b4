#pragma once
// A schema migration's version (first line: "<YYYYMMDDHHMMSS>_<name>", as in its file name) and
// its up file's header directives (the rest). The version is judged valid or not, its timestamp
// a real date or not; the header parses, or is rejected naming the line.
#include "fuzz/entry.hpp"
#include "schema/migration_file.hpp"

namespace bbmd::fuzz {

namespace migration_file_detail {

inline std::string version_outcome(const std::string& version) {
  if (!schema::valid_version(version)) return "bad version";
  const auto timestamp = schema::timestamp_of(version);
  require(timestamp.size() == 14, "timestamp of " + version + " is not 14 characters");
  return schema::valid_timestamp(timestamp) ? "version" : "version with an impossible date";
}

}  // namespace migration_file_detail

inline std::string migration_file(std::string_view input) {
  const auto nl = input.find('\n');
  const std::string version(input.substr(0, nl));
  const std::string up_sql(nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1));
  const std::string head = migration_file_detail::version_outcome(version);
  schema::Directives directives;
  try {
    directives = schema::parse_directives(up_sql);
  } catch (const std::invalid_argument& e) {
    return head + "; " + rejected(e.what());
  }
  std::string out = head + "; ok:";
  for (const auto& bbm : directives.requires_bbms) {
    require(!bbm.empty(), "empty requires-bbm accepted");
    out += " requires-bbm " + bbm + ";";
  }
  if (directives.no_transaction) out += " no-transaction;";
  if (directives.required_stop) out += " required-stop;";
  return out;
}

}  // namespace bbmd::fuzz

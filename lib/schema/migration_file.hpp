#pragma once
// A schema migration: its version, SQL and the directives in its up file's comment header.
#include <chrono>
#include <string>
#include <vector>

namespace bbmd::schema {

struct Directives {
  std::vector<std::string> requires_bbms;  // -- bbmd:requires-bbm <name>
  bool no_transaction = false;             // -- bbmd:no-transaction
  bool required_stop = false;              // -- bbmd:required-stop
};

struct MigrationFile {
  std::string version;  // <YYYYMMDDHHMMSS>_<name>: the file name without .up.sql
  std::string up_sql;
  std::string down_sql;
  Directives directives;
  std::string source;   // where the up file came from, for messages: a path, or "bbmd:<file>"
};

// Reads directives from the leading comment lines; stops at the first line that is not a
// comment or blank. Throws std::invalid_argument naming the line for an unknown bbmd: directive.
[[nodiscard]] Directives parse_directives(const std::string& up_sql);

// True for "<14 digits>_<lowercase name>".
[[nodiscard]] bool valid_version(const std::string& version);

// The leading <YYYYMMDDHHMMSS> of a version (its first 14 characters).
[[nodiscard]] std::string timestamp_of(const std::string& version);

// True when a 14-digit timestamp is a real UTC date and time (month 1-12, day within the month,
// 00:00:00-23:59:59): "20261399..." sorts fine but was not written by `migrate new`.
[[nodiscard]] bool valid_timestamp(const std::string& timestamp);

// `t` as a migration timestamp, <YYYYMMDDHHMMSS> in UTC.
[[nodiscard]] std::string utc_timestamp(std::chrono::system_clock::time_point t);

}  // namespace bbmd::schema

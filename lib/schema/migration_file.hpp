#pragma once
// A schema migration: its version, SQL and the directives in its up file's comment header.
#include <optional>
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
};

// Reads directives from the leading comment lines; stops at the first line that is not a
// comment or blank. Throws std::invalid_argument naming the line for an unknown bbmd: directive.
[[nodiscard]] Directives parse_directives(const std::string& up_sql);

// True for "<14 digits>_<lowercase name>".
[[nodiscard]] bool valid_version(const std::string& version);

}  // namespace bbmd::schema

#pragma once
// Reads a migrations directory (<YYYYMMDDHHMMSS>_<name>.up.sql / .down.sql pairs) into
// MigrationFiles, reporting every file that does not fit instead of stopping at the first.
#include <filesystem>
#include <string>
#include <vector>

#include "schema/migration_file.hpp"

namespace bbmd::schema {

// One mistake in a migrations directory. `check` is a stable word tests and scripts can match.
struct Problem {
  std::string check;    // bad_name, missing_down, missing_up, bad_directive, duplicate_timestamp, ...
  std::string file;     // the file (or version) concerned
  std::string message;  // what is wrong and what to do
};

struct DirScan {
  std::vector<MigrationFile> migrations;  // complete, well-formed pairs, sorted by version
  std::vector<Problem> problems;
};

// A directory that does not exist scans as empty: an installation without its own migrations.
// Files not ending in .sql are ignored (READMEs, released.txt).
[[nodiscard]] DirScan scan_directory(const std::filesystem::path& dir);

// scan_directory, but any problem is an error: throws std::runtime_error listing them all.
[[nodiscard]] std::vector<MigrationFile> load_directory(const std::filesystem::path& dir);

}  // namespace bbmd::schema

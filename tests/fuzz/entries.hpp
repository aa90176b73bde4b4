#pragma once
// Every fuzz entry by target name: the name of its libFuzzer binary (fuzz_<name>), of its seed
// corpus (corpus/<name>/) and of its saved findings (regressions/<name>/).
#include <map>
#include <string>
#include <string_view>

#include "fuzz/entries/admin_bearer.hpp"
#include "fuzz/entries/config.hpp"
#include "fuzz/entries/conninfo.hpp"
#include "fuzz/entries/duration.hpp"
#include "fuzz/entries/job_arguments.hpp"
#include "fuzz/entries/listen_address.hpp"
#include "fuzz/entries/migration_file.hpp"
#include "fuzz/entries/migration_sql.hpp"
#include "fuzz/entries/wal_segments.hpp"

namespace bbmd::fuzz {

using Entry = std::string (*)(std::string_view input);

inline const std::map<std::string, Entry, std::less<>>& entries() {
  static const std::map<std::string, Entry, std::less<>> table{
      {"admin_bearer", &admin_bearer},     {"config", &config},
      {"conninfo", &conninfo},             {"duration", &duration},
      {"job_arguments", &job_arguments},   {"listen_address", &listen_address},
      {"migration_file", &migration_file}, {"migration_sql", &migration_sql},
      {"wal_segments", &wal_segments},
  };
  return table;
}

}  // namespace bbmd::fuzz

#pragma once
// Figures read from bbmd's Prometheus text: statements sent and time spent in them, by name.
#include <string>
#include <vector>

namespace bbmd::bench {

// Which statements a figure counts: those whose name label starts with one of `prefixes`, or
// (excluding) with none of them.
struct StatementNames {
  std::vector<std::string> prefixes;
  bool excluding = false;
  [[nodiscard]] bool counts(const std::string& name) const;
};

// Statements (round trips) counted in registry_database_queries_total.
double query_count(const std::string& scrape, const StatementNames& names);
// Seconds spent in them (registry_database_query_duration_seconds).
double query_seconds(const std::string& scrape, const StatementNames& names);

}  // namespace bbmd::bench

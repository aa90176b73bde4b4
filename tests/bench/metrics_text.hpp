#pragma once
// Figures read from bbmd's Prometheus text: statements sent and time spent in them.
#include <string>

namespace bbmd::bench {

// Every statement (round trip) counted in registry_database_queries_total, over all names.
double query_count(const std::string& scrape);
// Seconds spent in statements whose name label does not start with `excluded_prefix`.
double query_seconds_except(const std::string& scrape, const std::string& excluded_prefix);

}  // namespace bbmd::bench

// The throttle's metric verb: failing indicator checks counted per indicator.
#include <catch2/catch.hpp>

#include "metrics/metrics.hpp"

TEST_CASE("indicator errors are counted per indicator", "[throttle][unit]") {
  bbmd::metrics::Metrics metrics;
  metrics.indicator_error("sql_check");
  metrics.indicator_error("sql_check");
  metrics.indicator_error("wal_archive_backlog");
  const auto text = metrics.scrape();
  CHECK_THAT(text, Catch::Contains("# TYPE registry_bbm_throttle_indicator_errors_total counter"));
  CHECK_THAT(text, Catch::Contains("registry_bbm_throttle_indicator_errors_total{indicator=\"sql_check\"} 2"));
  CHECK_THAT(text,
             Catch::Contains("registry_bbm_throttle_indicator_errors_total{indicator=\"wal_archive_backlog\"} 1"));
}

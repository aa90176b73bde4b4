// Unit tests for lib/metrics: each verb, checked against the scraped exposition text.
#include <catch2/catch.hpp>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "metrics/metrics.hpp"
#include "metrics/query_names.hpp"
#include "throttle/reasons.hpp"
#include "version.hpp"

namespace {

using bbmd::metrics::MigrationLabels;
using bbmd::metrics::Metrics;

const MigrationLabels kMigration{7, "20260101000000_x"};
const std::string kLabels = R"(migration_id="7",migration_name="20260101000000_x")";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line(const std::string& scrape, const std::string& line) {
  for (const auto& l : lines_of(scrape)) {
    if (l == line) return true;
  }
  return false;
}

#define CHECK_LINE(scrape, line)        \
  do {                                    \
    INFO("missing line: " << (line));     \
    CHECK(has_line((scrape), (line)));    \
  } while (false)

}  // namespace

TEST_CASE("metrics: unlabelled series exist from the start", "[metrics]") {
  Metrics m;
  const auto s = m.scrape();
  CHECK_LINE(s, "registry_bbm_runs_total 0");
  CHECK_LINE(s, "registry_database_reconnects_total 0");
  CHECK_LINE(s, "registry_database_connect_failures_total 0");
  CHECK_LINE(s, "registry_bbm_oldest_pending_work_age_seconds 0");
  CHECK_LINE(s, std::string("bbmd_build_info{version=\"") + bbmd::kVersion + "\"} 1");
  CHECK_LINE(s, "# TYPE registry_bbm_runs_total counter");
  CHECK_LINE(s, "# HELP registry_bbm_runs_total A counter for batched migration worker runs.");
}

TEST_CASE("metrics: worker runs", "[metrics]") {
  Metrics m;
  m.run_finished(true, 0.3);
  m.run_finished(false, 2.0);
  const auto s = m.scrape();
  CHECK_LINE(s, "registry_bbm_runs_total 2");
  CHECK_LINE(s, "registry_bbm_run_duration_seconds_count 2");
  CHECK_LINE(s, "registry_bbm_run_duration_seconds_sum 2.3");
  CHECK_LINE(s, R"(registry_bbm_run_duration_seconds_bucket{le="0.5"} 1)");
  CHECK_LINE(s, R"(registry_bbm_run_duration_seconds_bucket{le="+Inf"} 2)");
}

TEST_CASE("metrics: finished jobs count tuples, failed jobs do not", "[metrics]") {
  Metrics m;
  m.job_finished(kMigration, "finished", 0.2, 100, 90);
  m.job_finished(kMigration, "finished", 0.4, 50, 3);
  m.job_finished(kMigration, "failed", 1.5, 25, 1000);
  m.job_finished(kMigration, "lease_lost", 1.5, 25, 1000);
  const auto s = m.scrape();
  CHECK_LINE(s, "registry_bbm_migrated_tuples_total{" + kLabels + "} 93");
  CHECK_LINE(s, "registry_bbm_jobs_total{" + kLabels + R"(,outcome="finished"} 2)");
  CHECK_LINE(s, "registry_bbm_jobs_total{" + kLabels + R"(,outcome="failed"} 1)");
  CHECK_LINE(s, "registry_bbm_jobs_total{" + kLabels + R"(,outcome="lease_lost"} 1)");
  CHECK_LINE(s, "registry_bbm_job_duration_seconds_count{" + kLabels + R"(,outcome="finished"} 2)");
  CHECK_LINE(s, "registry_bbm_job_duration_seconds_bucket{" + kLabels + R"(,outcome="finished",le="0.25"} 1)");
  CHECK_LINE(s, "registry_bbm_job_duration_seconds_bucket{" + kLabels + R"(,outcome="failed",le="600"} 1)");
  // The gauge shows the last job's batch size, whatever its outcome.
  CHECK_LINE(s, "registry_bbm_job_batch_size{" + kLabels + "} 25");
}

TEST_CASE("metrics: a failed job alone counts no tuples", "[metrics]") {
  Metrics m;
  m.job_finished(kMigration, "failed", 1.0, 10, 10);
  CHECK_LINE(m.scrape(), "registry_bbm_migrated_tuples_total{" + kLabels + "} 0");
}

TEST_CASE("metrics: held() switches reasons", "[metrics]") {
  Metrics m;
  m.held(kMigration, "missing_index", true);
  auto s = m.scrape();
  CHECK_LINE(s, "registry_bbm_hold{" + kLabels + R"(,reason="missing_index"} 1)");

  m.held(kMigration, "missing_work_function", true);
  s = m.scrape();
  CHECK_LINE(s, "registry_bbm_hold{" + kLabels + R"(,reason="missing_index"} 0)");
  CHECK_LINE(s, "registry_bbm_hold{" + kLabels + R"(,reason="missing_work_function"} 1)");

  m.held(kMigration, "missing_work_function", false);
  s = m.scrape();
  CHECK_LINE(s, "registry_bbm_hold{" + kLabels + R"(,reason="missing_index"} 0)");
  CHECK_LINE(s, "registry_bbm_hold{" + kLabels + R"(,reason="missing_work_function"} 0)");

  // Another migration's holds are its own.
  m.held({8, "20260101000001_y"}, "missing_index", true);
  m.held(kMigration, "missing_index", true);
  m.held(kMigration, "other", true);
  s = m.scrape();
  CHECK_LINE(s, R"(registry_bbm_hold{migration_id="8",migration_name="20260101000001_y",reason="missing_index"} 1)");
  CHECK_LINE(s, "registry_bbm_hold{" + kLabels + R"(,reason="missing_index"} 0)");
  CHECK_LINE(s, "registry_bbm_hold{" + kLabels + R"(,reason="other"} 1)");
}

TEST_CASE("metrics: migration_state is one-hot", "[metrics]") {
  Metrics m;
  m.migration_state(kMigration, "running");
  auto s = m.scrape();
  CHECK_LINE(s, "registry_bbm_migration_status{" + kLabels + R"(,state="running"} 1)");
  for (const char* other : {"paused", "active", "finished", "failed"}) {
    CHECK_LINE(s, "registry_bbm_migration_status{" + kLabels + ",state=\"" + other + "\"} 0");
  }
  m.migration_state(kMigration, "finished");
  s = m.scrape();
  CHECK_LINE(s, "registry_bbm_migration_status{" + kLabels + R"(,state="running"} 0)");
  CHECK_LINE(s, "registry_bbm_migration_status{" + kLabels + R"(,state="finished"} 1)");
}

TEST_CASE("metrics: per-migration and reason-labelled verbs", "[metrics]") {
  Metrics m;
  m.batching_query(kMigration, 0.004);
  m.sub_batch(kMigration, 0.02);
  m.sub_batch(kMigration, 0.02);
  m.progress(kMigration, 42.5);
  m.lease_takeover(kMigration);
  m.slept("no_work", 30);
  m.throttled("replication_lag", 1.5);
  m.throttled("replication_lag", 2.5);
  m.oldest_pending_age(120);
  const auto s = m.scrape();
  CHECK_LINE(s, "registry_bbm_query_duration_seconds_bucket{" + kLabels + R"(,le="0.001"} 0)");
  CHECK_LINE(s, "registry_bbm_query_duration_seconds_bucket{" + kLabels + R"(,le="0.005"} 1)");
  CHECK_LINE(s, "registry_bbm_sub_batch_duration_seconds_count{" + kLabels + "} 2");
  CHECK_LINE(s, "registry_database_bbm_progress_percent{" + kLabels + "} 42.5");
  CHECK_LINE(s, "registry_bbm_lease_takeovers_total{" + kLabels + "} 1");
  CHECK_LINE(s, R"(registry_bbm_sleep_duration_seconds_count{reason="no_work"} 1)");
  CHECK_LINE(s, R"(registry_bbm_sleep_duration_seconds_sum{reason="no_work"} 30)");
  CHECK_LINE(s, R"(registry_bbm_throttle_seconds_total{reason="replication_lag"} 4)");
  CHECK_LINE(s, "registry_bbm_oldest_pending_work_age_seconds 120");
}

TEST_CASE("metrics: database verbs", "[metrics]") {
  Metrics m;
  m.query("lease_job", 0.002, true);
  m.query("lease_job", 0.003, false);
  m.pool({3, 1, 8, 1, 2});
  m.schema_migration_applied("pre_deployment");
  const auto s = m.scrape();
  CHECK_LINE(s, R"(registry_database_queries_total{name="lease_job"} 2)");
  CHECK_LINE(s, R"(registry_database_query_errors_total{name="lease_job"} 1)");
  CHECK_LINE(s, R"(registry_database_query_duration_seconds_count{name="lease_job"} 2)");
  CHECK_LINE(s, R"(registry_database_query_duration_seconds_bucket{name="lease_job",le="0.0025"} 1)");
  CHECK_LINE(s, R"(registry_database_pool_connections{state="open"} 3)");
  CHECK_LINE(s, R"(registry_database_pool_connections{state="in_use"} 1)");
  CHECK_LINE(s, "registry_database_pool_max_connections 8");  // a limit is no state: sums over states stay counts
  CHECK(s.find(R"(state="max")") == std::string::npos);
  CHECK_LINE(s, "registry_database_reconnects_total 1");
  CHECK_LINE(s, "registry_database_connect_failures_total 2");
  CHECK_LINE(s, R"(registry_database_migrations_total{migration_type="pre_deployment"} 1)");
  // Later figures carry running totals: the counters move up to them, never down.
  m.pool({2, 0, 8, 4, 2});
  m.pool({2, 0, 8, 3, 1});
  const auto later = m.scrape();
  CHECK_LINE(later, "registry_database_reconnects_total 4");
  CHECK_LINE(later, "registry_database_connect_failures_total 2");
}

TEST_CASE("metrics: repeated calls reuse one series", "[metrics]") {
  Metrics m;
  for (int i = 0; i < 1000; ++i) m.lease_takeover(kMigration);
  const auto s = m.scrape();
  CHECK_LINE(s, "registry_bbm_lease_takeovers_total{" + kLabels + "} 1000");
  std::size_t series = 0;
  for (const auto& l : lines_of(s)) series += l.rfind("registry_bbm_lease_takeovers_total{", 0) == 0 ? 1 : 0;
  CHECK(series == 1);
}

TEST_CASE("metrics: every required name appears after use", "[metrics]") {
  Metrics m;
  m.run_finished(true, 1);
  m.job_finished(kMigration, "finished", 1, 10, 10);
  m.batching_query(kMigration, 0.01);
  m.sub_batch(kMigration, 0.01);
  m.slept("no_work", 1);
  m.progress(kMigration, 1);
  m.migration_state(kMigration, "active");
  m.held(kMigration, "missing_index", true);
  m.lease_takeover(kMigration);
  m.oldest_pending_age(1);
  m.throttled("flag_file", 1);
  m.query("q", 0.01, false);
  m.pool({1, 1, 1, 1, 1});
  m.schema_migration_applied("post_deployment");
  m.throttle_verdict(7, "flag_file", std::chrono::hours(1));
  const auto s = m.scrape();
  const std::vector<std::string> required{
      "registry_bbm_runs_total",
      "registry_bbm_run_duration_seconds",
      "registry_bbm_job_duration_seconds",
      "registry_bbm_query_duration_seconds",
      "registry_bbm_sub_batch_duration_seconds",
      "registry_bbm_job_batch_size",
      "registry_bbm_migrated_tuples_total",
      "registry_bbm_sleep_duration_seconds",
      "registry_database_bbm_progress_percent",
      "registry_database_queries_total",
      "registry_database_query_duration_seconds",
      "registry_database_migrations_total",
      "registry_bbm_jobs_total",
      "registry_bbm_lease_takeovers_total",
      "registry_bbm_hold",
      "registry_bbm_migration_status",
      "registry_bbm_oldest_pending_work_age_seconds",
      "registry_bbm_throttle_seconds_total",
      "registry_bbm_throttled",
      "registry_database_pool_connections",
      "registry_database_pool_max_connections",
      "registry_database_reconnects_total",
      "registry_database_connect_failures_total",
      "registry_database_query_errors_total",
      "bbmd_build_info",
  };
  for (const auto& name : required) {
    INFO(name);
    bool sample = false;
    for (const auto& l : lines_of(s)) {
      // A sample of this family: the name followed by labels, a value, or a histogram suffix.
      if (l.rfind(name, 0) == 0 && l.size() > name.size() &&
          (l[name.size()] == '{' || l[name.size()] == ' ' || l[name.size()] == '_')) {
        sample = true;
      }
    }
    CHECK(sample);
    CHECK(s.find("# TYPE " + name + " ") != std::string::npos);
    CHECK(s.find("# HELP " + name + " ") != std::string::npos);
  }
}

TEST_CASE("metrics: label values known in advance are exported at 0 from the start", "[metrics]") {
  Metrics m;
  const auto s = m.scrape();
  for (const auto reason : bbmd::throttle::reasons::kAll) {
    const std::string r(reason);
    CHECK_LINE(s, "registry_bbm_throttle_seconds_total{reason=\"" + r + "\"} 0");
    CHECK_LINE(s, "registry_bbm_throttled{reason=\"" + r + "\"} 0");
    CHECK_LINE(s, "registry_bbm_throttle_indicator_errors_total{indicator=\"" + r + "\"} 0");
  }
  for (const auto name : bbmd::metrics::names::kQueryNames) {
    const std::string n(name);
    CHECK_LINE(s, "registry_database_queries_total{name=\"" + n + "\"} 0");
    CHECK_LINE(s, "registry_database_query_errors_total{name=\"" + n + "\"} 0");
    CHECK_LINE(s, "registry_database_query_duration_seconds_count{name=\"" + n + "\"} 0");
  }
  for (const auto* reason : {"job_interval", "idle", "error"}) {
    CHECK_LINE(s, std::string("registry_bbm_sleep_duration_seconds_count{reason=\"") + reason + "\"} 0");
  }
  CHECK_LINE(s, R"(registry_database_pool_connections{state="open"} 0)");
  CHECK_LINE(s, R"(registry_database_pool_connections{state="in_use"} 0)");
  CHECK_LINE(s, R"(registry_database_migrations_total{migration_type="pre_deployment"} 0)");
  CHECK_LINE(s, R"(registry_database_migrations_total{migration_type="post_deployment"} 0)");
  // Nothing per migration before a migration is seen.
  CHECK(s.find("migration_id=") == std::string::npos);
}

TEST_CASE("metrics: a migration's series start at 0 when it is first seen runnable", "[metrics]") {
  Metrics m;
  const MigrationLabels finished{8, "20260101000001_done"};
  m.migration_state(finished, "finished");
  m.progress(finished, 100);
  auto s = m.scrape();
  CHECK(s.find(R"(registry_bbm_jobs_total{migration_id="8")") == std::string::npos);

  m.migration_state(kMigration, "active");
  s = m.scrape();
  for (const auto* outcome : {"finished", "failed", "lease_lost", "canceled", "connection_lost"}) {
    CHECK_LINE(s, "registry_bbm_jobs_total{" + kLabels + ",outcome=\"" + outcome + "\"} 0");
    CHECK_LINE(s, "registry_bbm_job_duration_seconds_count{" + kLabels + ",outcome=\"" + outcome + "\"} 0");
  }
  CHECK_LINE(s, "registry_bbm_migrated_tuples_total{" + kLabels + "} 0");
  CHECK_LINE(s, "registry_bbm_lease_takeovers_total{" + kLabels + "} 0");
  CHECK_LINE(s, "registry_bbm_sub_batch_duration_seconds_count{" + kLabels + "} 0");
  CHECK_LINE(s, "registry_bbm_query_duration_seconds_count{" + kLabels + "} 0");

  // Work on a migration the collector has not reported yet starts its series too.
  const MigrationLabels worked{9, "20260101000002_worked"};
  m.lease_takeover(worked);
  s = m.scrape();
  CHECK_LINE(s, R"(registry_bbm_lease_takeovers_total{migration_id="9",migration_name="20260101000002_worked"} 1)");
  CHECK_LINE(s, R"(registry_bbm_jobs_total{migration_id="9",migration_name="20260101000002_worked",outcome="failed"} 0)");
}

TEST_CASE("metrics: registry_bbm_throttled is 1 per reason while a verdict holds, whatever the number held",
          "[metrics]") {
  Metrics m;
  const auto hour = std::chrono::hours(1);
  m.throttle_verdict(1, "replication_lag", hour);
  m.throttle_verdict(2, "replication_lag", hour);
  m.throttle_verdict(3, "autovacuum", hour);
  auto s = m.scrape();
  CHECK_LINE(s, R"(registry_bbm_throttled{reason="replication_lag"} 1)");
  CHECK_LINE(s, R"(registry_bbm_throttled{reason="autovacuum"} 1)");
  CHECK_LINE(s, R"(registry_bbm_throttled{reason="flag_file"} 0)");
  m.throttle_verdict(1, "", hour);
  m.throttle_verdict(3, "replication_lag", hour);  // a new verdict replaces the migration's last one
  s = m.scrape();
  CHECK_LINE(s, R"(registry_bbm_throttled{reason="replication_lag"} 1)");
  CHECK_LINE(s, R"(registry_bbm_throttled{reason="autovacuum"} 0)");
  m.throttle_verdict(2, "", hour);
  m.throttle_verdict(3, "", hour);
  CHECK_LINE(m.scrape(), R"(registry_bbm_throttled{reason="replication_lag"} 0)");
  // A verdict that has expired counts no more, even without a newer one.
  m.throttle_verdict(4, "wal_rate", std::chrono::milliseconds(0));
  CHECK_LINE(m.scrape(), R"(registry_bbm_throttled{reason="wal_rate"} 0)");
}

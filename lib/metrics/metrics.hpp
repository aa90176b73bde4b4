#pragma once
// Every Prometheus metric bbmd exports, behind verbs. Names follow the registry's so its
// dashboards work unchanged; bbmd's additions carry the same prefixes.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
}

namespace bbmd::metrics {

struct MigrationLabels {
  std::int64_t id = 0;
  std::string name;
};

// Series whose label values are known in advance are exported at 0 from the start; a migration's
// series start when it is first seen in a runnable state (active, running) or worked on.
class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Worker runs: one run = one pass of the worker loop (lease attempt + batch, or nothing to do).
  void run_finished(bool did_work, double seconds);                         // runs_total, run_duration_seconds
  void job_finished(const MigrationLabels& m, std::string_view outcome,    // job_duration_seconds{...,outcome}
                    double seconds, std::int64_t batch_size, std::int64_t tuples_changed);
  void batching_query(const MigrationLabels& m, double seconds);            // bbm query_duration_seconds
  void sub_batch(const MigrationLabels& m, double seconds);                 // sub_batch_duration_seconds
  void slept(std::string_view reason, double seconds);                      // sleep_duration_seconds{reason}
  void progress(const MigrationLabels& m, double percent);                  // registry_database_bbm_progress_percent
  void migration_state(const MigrationLabels& m, std::string_view state);   // registry_bbm_migration_status{state} 1/0
  void held(const MigrationLabels& m, std::string_view reason, bool on);    // registry_bbm_hold{reason}
  void lease_takeover(const MigrationLabels& m);                            // registry_bbm_lease_takeovers_total
  void oldest_pending_age(double seconds);                                  // registry_bbm_oldest_pending_work_age_seconds
  void throttled(std::string_view reason, double seconds);                  // registry_bbm_throttle_seconds_total{reason}
  // The throttle's verdict on one migration: `reason` holds it (empty: nothing does) until the
  // next verdict, or for `valid_for` without one (the migration was paused, or another process
  // checks it now). registry_bbm_throttled{reason} is 1 while a verdict of that reason holds.
  void throttle_verdict(std::int64_t migration_id, std::string_view reason, std::chrono::milliseconds valid_for);
  void indicator_error(std::string_view indicator);  // registry_bbm_throttle_indicator_errors_total{indicator}

  // Database layer.
  void query(std::string_view name, double seconds, bool ok);   // registry_database_queries_total / query_duration_seconds
  struct PoolFigures {
    std::size_t open = 0, in_use = 0, max_open = 0;
    std::uint64_t reconnects = 0, connect_failures = 0;  // running totals since start
  };
  // registry_database_pool_connections{state}, registry_database_pool_max_connections,
  // registry_database_reconnects_total, registry_database_connect_failures_total
  void pool(const PoolFigures& figures);
  void schema_migration_applied(std::string_view migration_type);  // registry_database_migrations_total
  void schema_migrations_pending(std::string_view migration_type, std::int64_t count);  // ..._migrations_pending

  [[nodiscard]] std::string scrape() const;  // Prometheus text exposition
  [[nodiscard]] std::shared_ptr<prometheus::Registry> registry() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bbmd::metrics

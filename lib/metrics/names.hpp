#pragma once
// Metric names, help texts and label keys, paired so a name never drifts from its help.
// Names and help texts of the registry's metrics are copied from the GitLab container registry so
// its dashboards and alerts keep working; bbmd's additions use the same prefixes.
#include <array>
#include <string_view>

namespace bbmd::metrics::names {

struct Def {
  const char* name;
  const char* help;
};

// The registry's BBM metrics.
inline constexpr Def kRunsTotal{"registry_bbm_runs_total", "A counter for batched migration worker runs."};
inline constexpr Def kRunDuration{"registry_bbm_run_duration_seconds",
                                  "A histogram of latencies for batched migration worker runs."};
inline constexpr Def kJobDuration{"registry_bbm_job_duration_seconds",
                                  "A histogram of latencies for a batched migration job."};
inline constexpr Def kQueryDuration{"registry_bbm_query_duration_seconds",
                                    "A histogram of latencies for batched migration database queries."};
inline constexpr Def kSubBatchDuration{"registry_bbm_sub_batch_duration_seconds",
                                       "A histogram of latencies for batched migration sub-batches."};
inline constexpr Def kJobBatchSize{"registry_bbm_job_batch_size",
                                   "A gauge for the batch size of a batched migration job."};
inline constexpr Def kMigratedTuples{"registry_bbm_migrated_tuples_total",
                                     "A counter for total batched migration records migrated."};
inline constexpr Def kSleepDuration{"registry_bbm_sleep_duration_seconds",
                                    "A histogram of sleep durations between BBM worker runs."};
inline constexpr Def kProgress{"registry_database_bbm_progress_percent",
                               "Background migration progress percentage (0-100)."};

// The registry's database metrics.
inline constexpr Def kQueriesTotal{"registry_database_queries_total", "A counter for database queries."};
inline constexpr Def kDbQueryDuration{"registry_database_query_duration_seconds",
                                      "A histogram of latencies for database queries."};
inline constexpr Def kMigrationsTotal{"registry_database_migrations_total",
                                      "A counter for schema migrations applied by this process, by type."};
inline constexpr Def kMigrationsPending{"registry_database_migrations_pending",
                                        "Schema migrations this build knows that the database has not applied, by type."};

// bbmd's additions.
inline constexpr Def kJobsTotal{"registry_bbm_jobs_total",
                                "A counter for batched migration jobs by outcome "
                                "(finished, failed, lease_lost, canceled)."};
inline constexpr Def kLeaseTakeovers{"registry_bbm_lease_takeovers_total",
                                     "A counter for jobs taken over from a worker whose lease expired."};
inline constexpr Def kHold{"registry_bbm_hold",
                           "1 while a batched migration is held (cannot start yet) for the given reason."};
inline constexpr Def kMigrationStatus{"registry_bbm_migration_status",
                                      "1 for the current state of a batched migration, 0 for the others."};
inline constexpr Def kOldestPendingAge{"registry_bbm_oldest_pending_work_age_seconds",
                                       "Age of the oldest batched migration work waiting to run."};
inline constexpr Def kThrottleSeconds{"registry_bbm_throttle_seconds_total",
                                      "Seconds of throttle holds decided, by reason, summed over migrations and "
                                      "workers (so it can grow faster than time; registry_bbm_throttled does not)."};
inline constexpr Def kThrottled{"registry_bbm_throttled",
                                "1 while a throttle signal with this reason holds at least one batched migration "
                                "of this process, else 0."};
inline constexpr Def kIndicatorErrors{"registry_bbm_throttle_indicator_errors_total",
                                     "A counter for health indicator checks that failed (treated as go), by indicator."};
inline constexpr Def kPoolConnections{"registry_database_pool_connections",
                                      "Database connections in the pool, by state (open, in_use)."};
inline constexpr Def kPoolMaxConnections{"registry_database_pool_max_connections",
                                         "The most connections the pool opens (database.pool.maxopen)."};
inline constexpr Def kReconnects{"registry_database_reconnects_total",
                                 "A counter for database connections re-established after a loss."};
inline constexpr Def kConnectFailures{"registry_database_connect_failures_total",
                                      "A counter for failed database connection attempts."};
inline constexpr Def kQueryErrors{"registry_database_query_errors_total", "A counter for failed database queries."};
inline constexpr Def kBuildInfo{"bbmd_build_info", "Always 1; the labels carry the build identity."};

// Label keys.
inline constexpr const char* kMigrationId = "migration_id";
inline constexpr const char* kMigrationName = "migration_name";
inline constexpr const char* kOutcome = "outcome";
inline constexpr const char* kReason = "reason";
inline constexpr const char* kIndicator = "indicator";
inline constexpr const char* kState = "state";
inline constexpr const char* kName = "name";
inline constexpr const char* kMigrationType = "migration_type";
inline constexpr const char* kVersion = "version";

// Label values known in advance: their series are exported at 0 from the start (or, per
// migration, from when the migration is first seen runnable), so a dashboard never shows
// "No data" for them and rate() counts their first increment.

// Values of registry_bbm_migration_status{state}; migration_state() zeroes the ones not current.
inline constexpr std::array<std::string_view, 5> kMigrationStates{"paused", "active", "finished", "failed",
                                                                  "running"};
// States in which workers lease jobs: a migration first seen in one gets its per-migration series.
inline constexpr std::array<std::string_view, 2> kRunnableStates{"active", "running"};
// registry_bbm_jobs_total{outcome} and job_duration_seconds{outcome}, as the runner reports them;
// only "finished" adds to migrated_tuples_total.
inline constexpr std::string_view kOutcomeFinished = "finished";
inline constexpr std::array<std::string_view, 5> kJobOutcomes{kOutcomeFinished, "failed", "lease_lost", "canceled",
                                                              "connection_lost"};
// registry_bbm_sleep_duration_seconds{reason}: the worker's sleeps after a pass that worked, found
// nothing to do, or failed.
inline constexpr std::array<std::string_view, 3> kSleepReasons{"job_interval", "idle", "error"};
// registry_database_pool_connections{state}.
inline constexpr std::string_view kPoolOpen = "open";
inline constexpr std::string_view kPoolInUse = "in_use";
// registry_database_migrations_total and _pending{migration_type} (schema::metric_type).
inline constexpr std::array<std::string_view, 2> kMigrationTypes{"pre_deployment", "post_deployment"};

}  // namespace bbmd::metrics::names

#pragma once
// Every name bbmd gives a database round trip (the `name` of db::Connection::query, pipeline and
// execute_script), so that registry_database_queries_total, _query_errors_total and
// _query_duration_seconds{name} start at 0 for each. tests/unit/metrics_query_names_test.cpp
// fails when a name in lib/ is missing here or a name here is no longer used. The work
// statements, `bbm_work_<job_signature_name>`, are per work function and start on first use.
#include <array>
#include <string_view>

namespace bbmd::metrics::names {

inline constexpr auto kQueryNames = std::to_array<std::string_view>({
    // db: transactions, cancellation, readiness
    "begin", "commit", "rollback", "cancel_backend", "readiness",
    // bbm: listing, holds and estimates
    "bbm_runnable_migrations", "bbm_migration_by_id", "bbm_hold_migration", "bbm_clear_hold",
    "bbm_fail_migration", "bbm_estimate_tuples", "bbm_store_estimate", "bbm_progress", "bbm_listen",
    // bbm: operator verbs and `background-migrate run`
    "bbm_pause", "bbm_resume", "bbm_retry_migrations", "bbm_retry_jobs", "bbm_unfinished", "bbm_id_named",
    "bbm_exists",
    // bbm: validation against the catalog
    "bbm_catalog_table", "bbm_catalog_sequence", "bbm_catalog_column", "bbm_catalog_index",
    "bbm_catalog_primary_key", "bbm_catalog_partial_index", "bbm_catalog_privileges", "bbm_catalog_partition_indexes",
    // bbm: leases
    "bbm_lease", "bbm_lease_lock_migration", "bbm_lease_lock_table", "bbm_lease_lock_fleet",
    "bbm_lease_running_on_table", "bbm_lease_running_in_fleet", "bbm_lease_expired", "bbm_lease_exhaust",
    "bbm_lease_insert", "bbm_lease_retryable", "bbm_lease_job_counts", "bbm_lease_relet", "bbm_lease_release",
    "bbm_mark_running", "bbm_mark_finished", "bbm_mark_failed",
    // bbm: batches
    "bbm_batch_cursor", "bbm_batch_range", "bbm_batch_range_lookahead", "bbm_batch_finish_job",
    "bbm_batch_fail_job", "bbm_batch_null_remains", "bbm_job_shrink_sub_batch", "bbm_job_halve_batch", "bbm_job_split_lower", "bbm_job_split_upper",
    // throttle indicators
    "throttle_wal_archive", "throttle_wal_rate", "throttle_replication_lag", "throttle_slot_retention",
    "throttle_autovacuum", "throttle_oldest_transaction", "throttle_sql_check", "throttle_stats_access",
    // schema migrations
    "schema_lock", "schema_unlock", "schema_migration_up", "schema_migration_down", "schema_create_records",
    "schema_records_source", "schema_read_records", "schema_record_applied", "schema_record_marked",
    "schema_record_failure", "schema_delete_record", "schema_bbm_table_exists", "schema_bbm_names"});

}  // namespace bbmd::metrics::names

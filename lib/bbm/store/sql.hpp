#pragma once
// The words bbm's SQL is written with, defined once: the two tables' names and every status and
// failure-code number (from model/status_codes.hpp). Statements are templates whose
// placeholders render() fills in, so no number or table name is spelled twice:
//   {migrations}  {jobs}                       the two tables
//   {m.paused} {m.active} ... {m.running}      migration status numbers (MigrationStatus)
//   {j.active} {j.finished} {j.failed}         job status numbers (JobStatus)
//   {code.max_job_retry} ...                   failure codes (FailureCode, by to_string name)
#include <string>
#include <string_view>

namespace bbmd::bbm::sql {

inline constexpr std::string_view kMigrationsTable = "batched_background_migrations";
inline constexpr std::string_view kJobsTable = "background_migration_jobs";
// The channel the migrations table's trigger NOTIFYs on a new row or a migration made active
// (sql/schema/20260104000000_bbm_change_notify.up.sql); the payload is the row's id.
inline constexpr std::string_view kChangeChannel = "bbmd_changes";

// The template with every placeholder replaced. Only for bbm's own constant text: a quoted
// identifier may hold braces, so SQL that names the target table is joined after rendering. Throws std::logic_error naming an unknown
// placeholder: statements are rendered when the program starts, so a typo fails at once.
[[nodiscard]] std::string render(std::string_view statement);

// A template counting running jobs (leased, lease not expired) among those `filter` selects (empty:
// the whole fleet): the lease checks its caps with it, and the worker's listing leaves out a
// migration already at its cap.
[[nodiscard]] std::string running_jobs(std::string_view filter);

}  // namespace bbmd::bbm::sql

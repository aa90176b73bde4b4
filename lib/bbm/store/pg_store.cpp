// The store's statements on migration rows, and the failure and release of jobs (see pg_store.hpp).
#include "bbm/store/pg_store.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "bbm/store/rows.hpp"
#include "bbm/store/sql.hpp"
#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

// The partition root (or the table itself) a row's "schema.table" text names, NULL if none: found
// by comparing names in the catalog, so no row text is ever cast or parsed as SQL.
std::string root_of(const std::string& table_name) {
  const auto part = [&](const char* qualified, const char* bare) {
    return "CASE WHEN strpos(" + table_name + ", '.') > 0 THEN " + qualified + " ELSE " + bare + " END";
  };
  return "(SELECT coalesce(pg_catalog.pg_partition_root(c.oid)::oid, c.oid) FROM pg_catalog.pg_class c "
         "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = " +
         part(("split_part(" + table_name + ", '.', 1)").c_str(), "'public'") + " AND c.relname = " +
         part(("split_part(" + table_name + ", '.', 2)").c_str(), table_name.c_str()) + ")";
}

// Active and running migrations not held, except those queued behind an unfinished earlier one
// on the same table or partition tree: migrations of one table run in queue order, as the
// registry's strict order and Rails' one-per-table rule have them (other tables in parallel).
// Each unfinished row's root is looked up once (the CTE is materialized, being read twice): as a
// correlated subquery per pair it cost 22 ms a list with the registry's 64 partition migrations.
// $2: the hold code of a migration that waits for a build knowing its work function.
// Left out too: a migration already running as many jobs as one table may ($3), and every one
// while the fleet runs as many as it may ($4, 0: no cap). A lease on them could only find them
// busy, and with many workers those leases were most of the fleet's round trips (14 a job with
// 8 processes on 16 tables) and waited on the row locks of the batches holding the jobs.
const std::string kRunnable = sql::render(
    std::string("WITH unfinished AS (SELECT *, ") + root_of("table_name") +
    " AS root FROM {migrations} WHERE status IN ({m.paused}, {m.active}, {m.running})) SELECT " + kBbmColumns +
    " FROM unfinished m WHERE status IN ({m.active}, {m.running}) AND (hold_until IS NULL OR hold_until <= now() "
    "OR (hold_code = $2 AND job_signature_name = ANY($1::text[]))) AND NOT EXISTS (SELECT 1 FROM unfinished e "
    "WHERE e.id < m.id AND e.root = m.root) AND " + sql::running_jobs("batched_background_migration_id = m.id") +
    " < $3::int AND ($4::int <= 0 OR " + sql::running_jobs("") + " < $4::int) ORDER BY status = {m.running} DESC, id");

const std::string kFind = sql::render(std::string("SELECT ") + kBbmColumns + " FROM {migrations} WHERE id = $1");

const std::string kHold = sql::render(
    "UPDATE {migrations} SET hold_until = now() + $2::bigint * interval '1 millisecond', "
    "hold_code = $3, hold_reason = $4, updated_at = now() WHERE id = $1");

const std::string kClearHold = sql::render(
    "UPDATE {migrations} SET hold_until = NULL, hold_code = NULL, hold_reason = NULL, "
    "updated_at = now() WHERE id = $1 AND hold_code IS NOT NULL");

const std::string kFail = sql::render(
    "UPDATE {migrations} SET status = {m.failed}, failure_error_code = $2, last_error = left($3, 2000), "
    "hold_until = NULL, hold_code = NULL, hold_reason = NULL, updated_at = now() "
    "WHERE id = $1 AND status IN ({m.active}, {m.running})");

const std::string kStoreEstimate =
    sql::render("UPDATE {migrations} SET total_tuple_count = $2, key_ceiling = $3 WHERE id = $1");

constexpr const char* kAnalyzed = "SELECT reltuples >= 0 FROM pg_catalog.pg_class WHERE oid = $1";

const std::string kFailJob = sql::render(
    "UPDATE {jobs} SET status = {j.failed}, failure_error_code = $3, last_error = left($4, 2000), "
    "lease_expires_at = NULL, updated_at = now() WHERE id = $1 AND lease_token = $2 AND status = {j.active}");

const std::string kRelease = sql::render(
    "UPDATE {jobs} SET attempts = greatest(attempts - 1, 0), lease_owner = NULL, "
    "lease_expires_at = now() - interval '1 millisecond', updated_at = now() "
    "WHERE id = $1 AND lease_token = $2 AND status = {j.active}");

// A text[] literal, bound as one value: each name double-quoted with its quotes and backslashes
// escaped, so any work function name (CamelCase, punctuation) arrives as written.
std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// The planner's row estimate from an EXPLAIN (FORMAT JSON) result.
std::int64_t planner_rows(const db::Result& explained) {
  const auto plan = nlohmann::json::parse(explained.get_string(0, 0));
  return static_cast<std::int64_t>(plan.at(0).at("Plan").at("Plan Rows").get<double>());
}

}  // namespace

boost::asio::awaitable<std::vector<Bbm>> PgStore::runnable(const std::vector<std::string>& known_functions,
                                                           const LeaseOptions& caps) {
  auto r = co_await conn_.query("bbm_runnable_migrations", kRunnable, text_array(known_functions),
                                std::string(kHoldUnknownWorkFunction), caps.max_jobs_per_table, caps.max_running_jobs);
  std::vector<Bbm> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(bbm_from_row(r, i));
  co_return out;
}

boost::asio::awaitable<std::optional<Bbm>> PgStore::find(std::int64_t id) {
  auto r = co_await conn_.query("bbm_migration_by_id", kFind, id);
  if (r.empty()) co_return std::nullopt;
  co_return bbm_from_row(r, 0);
}

boost::asio::awaitable<bool> PgStore::hold(const Bbm& m, const Verdict& verdict, std::chrono::milliseconds interval) {
  co_await conn_.query("bbm_hold_migration", kHold, m.id, static_cast<std::int64_t>(interval.count()),
                       verdict.hold_code, verdict.reason);
  co_return m.hold_code != verdict.hold_code;
}

boost::asio::awaitable<void> PgStore::clear_hold(const Bbm& m) {
  co_await conn_.query("bbm_clear_hold", kClearHold, m.id);
}

boost::asio::awaitable<bool> PgStore::fail(const Bbm& m, const Verdict& verdict) {
  auto r = co_await conn_.query("bbm_fail_migration", kFail, m.id, static_cast<std::int64_t>(verdict.code),
                                verdict.reason);
  co_return r.affected_rows() > 0;
}

boost::asio::awaitable<std::int64_t> PgStore::estimate_tuples(const Bbm& m, const Target& target) {
  // With statistics (ANALYZE has run) the planner's estimate for the exact batch filter is good.
  // Without them its range and NULL selectivities are fixed guesses (0.5%), so fall back to its
  // whole-table estimate (from the table's size on disk), capped by the key span.
  // Both estimates and the key ceiling go in one round trip (a short migration's start paid
  // four): the answer to "analyzed?" picks one estimate afterwards.
  // EXPLAIN cannot take bound parameters; the bounds are integers we parsed, never row text.
  const bool by_limit = target.strategy == BatchingStrategy::null_keyset_limit;
  std::string filter = target.column_sql + " IS NULL";
  if (!by_limit) {
    const auto range = target.key_sql + " BETWEEN " + std::to_string(m.min_value) + " AND " + std::to_string(m.max_value);
    filter = target.strategy == BatchingStrategy::null_keyset ? range + " AND " + filter : range;
  }
  const std::string explain = "EXPLAIN (FORMAT JSON) SELECT 1 FROM " + target.table_sql + " WHERE ";
  std::vector<db::Statement> statements{
      db::Statement{kAnalyzed, db::Params{static_cast<std::int64_t>(target.table_oid)}},
      db::Statement{explain + filter, {}},
      db::Statement{explain + "true", {}}};
  if (!by_limit) {
    statements.push_back(db::Statement{"SELECT max(" + target.key_sql + ") FROM " + target.table_sql + " WHERE " +
                                           target.key_sql + " BETWEEN $1 AND $2",
                                       db::Params{m.min_value, m.max_value}});
  }
  const auto r = co_await conn_.pipeline("bbm_estimate_tuples", statements);
  std::int64_t estimate = 0;
  if (!r[0].empty() && r[0].get_bool(0, 0)) {
    estimate = planner_rows(r[1]);
  } else {
    const auto rows = planner_rows(r[2]);
    estimate = by_limit ? rows : std::min(rows, m.max_value - m.min_value + 1);
  }
  std::optional<std::int64_t> ceiling;
  if (!by_limit) ceiling = r[3].opt_int(0, 0);
  co_await conn_.query("bbm_store_estimate", kStoreEstimate, m.id, estimate, ceiling);
  co_return estimate;
}

boost::asio::awaitable<void> PgStore::record_failure(const Job& job, FailureCode code, const std::string& error) {
  co_await conn_.query("bbm_batch_fail_job", kFailJob, job.id, job.lease_token, static_cast<std::int64_t>(code),
                       error);
}

boost::asio::awaitable<void> PgStore::release(const Job& job) {
  co_await conn_.query("bbm_lease_release", kRelease, job.id, job.lease_token);
}

}  // namespace bbmd::bbm

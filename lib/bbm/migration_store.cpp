// SQL for batched_background_migrations rows (see migration_store.hpp).
#include "bbm/migration_store.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "db/connection.hpp"
#include "db/transaction.hpp"

namespace bbmd::bbm {

namespace {

std::string runnable_sql() {
  return std::string("SELECT ") + Migration::kColumns +
         " FROM batched_background_migrations WHERE status IN (1, 4) AND (hold_until IS NULL OR hold_until <= now() "
         "OR (hold_code = 'unknown_work_function' AND job_signature_name = ANY($1::text[]))) "
         "ORDER BY status = 4 DESC, id";
}

constexpr const char* kHold =
    "UPDATE batched_background_migrations SET hold_until = now() + $2::bigint * interval '1 millisecond', "
    "hold_code = $3, hold_reason = $4, updated_at = now() WHERE id = $1";

constexpr const char* kClearHold =
    "UPDATE batched_background_migrations SET hold_until = NULL, hold_code = NULL, hold_reason = NULL, "
    "updated_at = now() WHERE id = $1 AND hold_code IS NOT NULL";

constexpr const char* kFail =
    "UPDATE batched_background_migrations SET status = 3, failure_error_code = $2, last_error = left($3, 2000), "
    "hold_until = NULL, hold_code = NULL, hold_reason = NULL, updated_at = now() WHERE id = $1 AND status IN (1, 4)";

constexpr const char* kStoreEstimate =
    "UPDATE batched_background_migrations SET total_tuple_count = $2 WHERE id = $1";

constexpr const char* kPause =
    "UPDATE batched_background_migrations SET status = 0, updated_at = now() WHERE status IN (1, 4) "
    "AND ($1::text IS NULL OR name = $1)";
constexpr const char* kResume =
    "UPDATE batched_background_migrations SET status = 1, updated_at = now() WHERE status = 0 "
    "AND ($1::text IS NULL OR name = $1)";

constexpr const char* kResetFailedJobs =
    "UPDATE background_migration_jobs j SET attempts = 0, updated_at = now() FROM batched_background_migrations m "
    "WHERE m.id = j.batched_background_migration_id AND m.status = 3 AND j.status = 3";
constexpr const char* kResetMigrations =
    "UPDATE batched_background_migrations SET status = 1, failure_error_code = NULL, last_error = NULL, "
    "hold_until = NULL, hold_code = NULL, hold_reason = NULL, updated_at = now() WHERE status IN (0, 3)";
constexpr const char* kUnfinished = "SELECT id FROM batched_background_migrations WHERE status <> 2 ORDER BY id";

// Signature names are [a-z0-9_] (work_registry.cpp), so the array literal needs no escaping.
std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
  return out + "}";
}

boost::asio::awaitable<std::int64_t> planner_rows(db::Connection& conn, const Target& target,
                                                 const std::string& filter) {
  auto r = co_await conn.query("bbm_estimate_tuples",
                               "EXPLAIN (FORMAT JSON) SELECT 1 FROM " + target.table_sql + " WHERE " + filter);
  const auto plan = nlohmann::json::parse(r.get_string(0, 0));
  co_return static_cast<std::int64_t>(plan.at(0).at("Plan").at("Plan Rows").get<double>());
}

db::Param optional_name(const std::string& name) {
  return name.empty() ? db::Param(std::nullopt) : db::Param(name);
}

}  // namespace

boost::asio::awaitable<std::vector<Migration>> runnable_migrations(db::Connection& conn,
                                                                   const std::vector<std::string>& known_functions) {
  auto r = co_await conn.query("bbm_runnable_migrations", runnable_sql(), text_array(known_functions));
  std::vector<Migration> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(Migration::from_row(r, i));
  co_return out;
}

boost::asio::awaitable<std::optional<Migration>> migration_by_id(db::Connection& conn, std::int64_t id) {
  auto r = co_await conn.query(
      "bbm_migration_by_id",
      std::string("SELECT ") + Migration::kColumns + " FROM batched_background_migrations WHERE id = $1", id);
  if (r.empty()) co_return std::nullopt;
  co_return Migration::from_row(r, 0);
}

boost::asio::awaitable<bool> hold_migration(db::Connection& conn, const Migration& m, const Verdict& verdict,
                                            std::chrono::milliseconds interval) {
  co_await conn.query("bbm_hold_migration", kHold,
                      m.id, static_cast<std::int64_t>(interval.count()), verdict.hold_code, verdict.reason);
  co_return m.hold_code != verdict.hold_code;
}

boost::asio::awaitable<void> clear_hold(db::Connection& conn, const Migration& m) {
  co_await conn.query("bbm_clear_hold", kClearHold, m.id);
}

boost::asio::awaitable<bool> fail_migration(db::Connection& conn, const Migration& m, const Verdict& verdict) {
  auto r = co_await conn.query("bbm_fail_migration", kFail,
                               m.id, static_cast<std::int64_t>(verdict.code), verdict.reason);
  co_return r.affected_rows() > 0;
}

boost::asio::awaitable<std::int64_t> estimate_tuples(db::Connection& conn, const Migration& m, const Target& target) {
  // With statistics (ANALYZE has run) the planner's estimate for the exact batch filter is good.
  // Without them its range and NULL selectivities are fixed guesses (0.5%), so fall back to its
  // whole-table estimate (from the table's size on disk), capped by the key span.
  auto analyzed = co_await conn.query("bbm_estimate_analyzed",
                                      "SELECT reltuples >= 0 FROM pg_catalog.pg_class WHERE oid = $1",
                                      static_cast<std::int64_t>(target.table_oid));
  std::int64_t estimate = 0;
  if (!analyzed.empty() && analyzed.get_bool(0, 0)) {
    // EXPLAIN cannot take bound parameters; the bounds are integers we parsed, never row text.
    std::string filter = target.key_sql + " BETWEEN " + std::to_string(m.min_value) + " AND " +
                         std::to_string(m.max_value);
    if (target.strategy == BatchingStrategy::null_keyset) filter += " AND " + target.column_sql + " IS NULL";
    estimate = co_await planner_rows(conn, target, filter);
  } else {
    estimate = std::min(co_await planner_rows(conn, target, "true"), m.max_value - m.min_value + 1);
  }
  co_await conn.query("bbm_store_estimate", kStoreEstimate, m.id, estimate);
  co_return estimate;
}

boost::asio::awaitable<std::int64_t> pause_migrations(db::Connection& conn, const std::string& name) {
  co_return (co_await conn.query("bbm_pause", kPause, optional_name(name))).affected_rows();
}

boost::asio::awaitable<std::int64_t> resume_migrations(db::Connection& conn, const std::string& name) {
  co_return (co_await conn.query("bbm_resume", kResume, optional_name(name))).affected_rows();
}

boost::asio::awaitable<std::vector<std::int64_t>> reset_unfinished(db::Connection& conn) {
  return db::in_transaction(conn, [&]() -> boost::asio::awaitable<std::vector<std::int64_t>> {
    co_await conn.query("bbm_reset_failed_jobs", kResetFailedJobs);
    co_await conn.query("bbm_reset_migrations", kResetMigrations);
    auto r = co_await conn.query("bbm_unfinished", kUnfinished);
    std::vector<std::int64_t> ids;
    for (int i = 0; i < r.rows(); ++i) ids.push_back(r.get_int(i, 0));
    co_return ids;
  });
}

boost::asio::awaitable<bool> migration_name_exists(db::Connection& conn, const std::string& name) {
  auto r = co_await conn.query("bbm_name_exists", "SELECT 1 FROM batched_background_migrations WHERE name = $1",
                               name);
  co_return !r.empty();
}

}  // namespace bbmd::bbm

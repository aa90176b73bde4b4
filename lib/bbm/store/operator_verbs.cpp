// Operator verbs on migration rows (see operator_verbs.hpp).
#include "bbm/store/operator_verbs.hpp"

#include "bbm/store/sql.hpp"
#include "db/connection.hpp"
#include "db/transaction.hpp"

namespace bbmd::bbm {

namespace {

// $1 id or NULL, $2 name or NULL: the Selection.
constexpr const char* kSelected = "($1::bigint IS NULL OR id = $1) AND ($2::text IS NULL OR name = $2)";

const std::string kPause = sql::render(std::string("UPDATE {migrations} SET status = {m.paused}, updated_at = now() "
                                                   "WHERE status IN ({m.active}, {m.running}) AND ") + kSelected);
const std::string kResume = sql::render(
    std::string("UPDATE {migrations} SET status = {m.active}, updated_at = now() WHERE status = {m.paused} AND ") +
    kSelected);
// $3: the statuses a retry starts from, as a smallint[] literal.
const std::string kRetryMigrations = sql::render(
    std::string("UPDATE {migrations} SET status = {m.active}, failure_error_code = NULL, last_error = NULL, "
                "hold_until = NULL, hold_code = NULL, hold_reason = NULL, updated_at = now() "
                "WHERE status = ANY($3::smallint[]) AND ") + kSelected + " RETURNING id");
const std::string kRetryJobs = sql::render(
    "UPDATE {jobs} SET attempts = 0, updated_at = now() "
    "WHERE batched_background_migration_id = ANY($1::bigint[]) AND status = {j.failed}");
const std::string kUnfinished = sql::render("SELECT id FROM {migrations} WHERE status <> {m.finished} ORDER BY id");
const std::string kIdNamed = sql::render("SELECT id FROM {migrations} WHERE name = $1");
const std::string kExists = sql::render(std::string("SELECT 1 FROM {migrations} WHERE ") + kSelected + " LIMIT 1");
const std::string kNames = sql::render("SELECT name FROM {migrations}");
const std::string kTableExists = "SELECT to_regclass('" + std::string(sql::kMigrationsTable) + "') IS NOT NULL";

db::Param id_of(const Selection& which) { return which.id ? db::Param(*which.id) : db::Param(std::nullopt); }
db::Param name_of(const Selection& which) { return which.name ? db::Param(*which.name) : db::Param(std::nullopt); }

template <typename T>
std::string array_literal(const std::vector<T>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(static_cast<std::int64_t>(values[i]));
  return out + "}";
}

}  // namespace

boost::asio::awaitable<std::int64_t> pause(db::Connection& conn, const Selection& which) {
  co_return (co_await conn.query("bbm_pause", kPause, id_of(which), name_of(which))).affected_rows();
}

boost::asio::awaitable<std::int64_t> resume(db::Connection& conn, const Selection& which) {
  co_return (co_await conn.query("bbm_resume", kResume, id_of(which), name_of(which))).affected_rows();
}

boost::asio::awaitable<std::int64_t> retry(db::Connection& conn, const Selection& which,
                                           const std::vector<MigrationStatus>& from) {
  return db::in_transaction(conn, [&]() -> boost::asio::awaitable<std::int64_t> {
    auto reset = co_await conn.query("bbm_retry_migrations", kRetryMigrations, id_of(which), name_of(which),
                                     array_literal(from));
    std::vector<std::int64_t> ids;
    for (int i = 0; i < reset.rows(); ++i) ids.push_back(reset.get_int(i, 0));
    if (!ids.empty()) co_await conn.query("bbm_retry_jobs", kRetryJobs, array_literal(ids));
    co_return static_cast<std::int64_t>(ids.size());
  });
}

boost::asio::awaitable<std::vector<std::int64_t>> unfinished_ids(db::Connection& conn) {
  auto r = co_await conn.query("bbm_unfinished", kUnfinished);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < r.rows(); ++i) ids.push_back(r.get_int(i, 0));
  co_return ids;
}

boost::asio::awaitable<std::optional<std::int64_t>> id_named(db::Connection& conn, const std::string& name) {
  auto r = co_await conn.query("bbm_id_named", kIdNamed, name);
  if (r.empty()) co_return std::nullopt;
  co_return r.get_int(0, 0);
}

boost::asio::awaitable<bool> exists(db::Connection& conn, const Selection& which) {
  co_return !(co_await conn.query("bbm_exists", kExists, id_of(which), name_of(which))).empty();
}

boost::asio::awaitable<std::set<std::string>> migration_names(db::Connection& conn) {
  std::set<std::string> out;
  const bool table_exists = co_await migrations_table_exists(conn);
  if (!table_exists) co_return out;
  auto r = co_await conn.query("schema_bbm_names", kNames);
  for (int i = 0; i < r.rows(); ++i) out.insert(r.get_string(i, 0));
  co_return out;
}

boost::asio::awaitable<bool> migrations_table_exists(db::Connection& conn) {
  co_return (co_await conn.query("schema_bbm_table_exists", kTableExists)).get_bool(0, 0);
}

}  // namespace bbmd::bbm

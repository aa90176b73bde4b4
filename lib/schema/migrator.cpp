// Applying and reverting one migration with its record (see migrator.hpp).
#include "schema/migrator.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <set>

#include "bbm/store/operator_verbs.hpp"
#include "db/connection.hpp"
#include "db/transaction.hpp"
#include "schema/bbm_state.hpp"
#include "schema/records.hpp"
#include "schema/sql_split.hpp"

namespace bbmd::schema {

namespace {

using boost::asio::awaitable;
using Clock = std::chrono::steady_clock;

// A no-transaction script is sent statement by statement: a multi-statement query string is
// one implicit transaction, where CREATE INDEX CONCURRENTLY is refused.
awaitable<void> run_sql(db::Connection& conn, const Known& m, const std::string& sql, const char* name) {
  if (!m.file.directives.no_transaction) {
    co_await conn.execute_script(name, sql);
    co_return;
  }
  for (const auto& statement : split_statements(sql)) co_await conn.execute_script(name, statement);
}

std::int64_t millis_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

std::vector<std::string> added(const std::set<std::string>& before, const std::set<std::string>& after) {
  std::vector<std::string> out;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(out));
  return out;
}

// The migration's SQL plus its record: diffing the BBM names around it is how bbmd learns
// which BBMs the migration queued, whatever SQL it used to do so.
awaitable<ApplyResult> apply_and_record(db::Connection& conn, const Known& m) {
  const auto start = Clock::now();
  const auto before = co_await bbm::migration_names(conn);
  co_await run_sql(conn, m, m.file.up_sql, "schema_migration_up");
  ApplyResult result;
  result.queued_bbms = added(before, co_await bbm::migration_names(conn));
  const auto ms = millis_since(start);
  co_await record_applied(conn, m.kind, m.version(), ms, result.queued_bbms);
  result.seconds = static_cast<double>(ms) / 1000.0;
  co_return result;
}

std::string failure_message(const Known& m, const std::string& error, bool up) {
  auto file = m.file.source;
  if (!up && file.size() > 7 && file.ends_with(".up.sql")) file.replace(file.size() - 7, 7, ".down.sql");
  std::string msg = "migration " + file + " failed: " + error;
  msg += m.file.directives.no_transaction
             ? "\n(no-transaction migration: statements before the failing one stay applied; an interrupted "
               "CREATE INDEX CONCURRENTLY leaves an INVALID index to drop before retrying)"
             : "\n(its transaction was rolled back: the schema is as it was before it)";
  return msg;
}

}  // namespace

awaitable<ApplyResult> apply_one(db::Connection& conn, const Known& m) {
  std::string error;
  ApplyResult result;
  try {
    if (m.file.directives.no_transaction) {
      result = co_await apply_and_record(conn, m);
    } else {
      result = co_await db::in_transaction(conn, [&]() { return apply_and_record(conn, m); });
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (error.empty()) co_return result;
  // Outside the rolled-back transaction, so the failure record survives it.
  if (is_post(m.kind)) co_await record_failure(conn, m.kind, m.version(), error);
  throw MigrationFailed(failure_message(m, error, true));
}

awaitable<double> revert_one(db::Connection& conn, const Known& m) {
  const auto start = Clock::now();
  const auto body = [&]() -> awaitable<void> {
    co_await run_sql(conn, m, m.file.down_sql, "schema_migration_down");
    co_await delete_record(conn, m.kind, m.version());
  };
  std::string error;
  try {
    if (m.file.directives.no_transaction) {
      co_await body();
    } else {
      co_await db::in_transaction(conn, body);
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!error.empty()) throw MigrationFailed(failure_message(m, error, false));
  co_return static_cast<double>(millis_since(start)) / 1000.0;
}

}  // namespace bbmd::schema

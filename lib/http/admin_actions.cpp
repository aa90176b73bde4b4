// The admin API's state changes on one migration: pause, resume and retry, by id.
// The status numbers are the registry's (bbm/status.hpp): 0 paused, 1 active, 3 failed, 4 running.
#include <boost/asio/awaitable.hpp>

#include "db/connection.hpp"
#include "db/transaction.hpp"
#include "http/admin.hpp"

namespace bbmd::http {
namespace {

// Same transitions as `background-migrate pause|resume` (bbm/migration_store.cpp), for one id.
constexpr const char* kPause =
    "UPDATE batched_background_migrations SET status = 0, updated_at = now() WHERE id = $1 AND status IN (1, 4)";
constexpr const char* kResume =
    "UPDATE batched_background_migrations SET status = 1, updated_at = now() WHERE id = $1 AND status = 0";
// The migration row first: its row lock keeps a worker from failing it again mid-reset.
constexpr const char* kRetryMigration =
    "UPDATE batched_background_migrations SET status = 1, failure_error_code = NULL, last_error = NULL, "
    "hold_until = NULL, hold_code = NULL, hold_reason = NULL, updated_at = now() WHERE id = $1 AND status = 3";
constexpr const char* kRetryJobs =
    "UPDATE background_migration_jobs SET attempts = 0, updated_at = now() "
    "WHERE batched_background_migration_id = $1 AND status = 3";
constexpr const char* kExists = "SELECT 1 FROM batched_background_migrations WHERE id = $1";

boost::asio::awaitable<bool> retry(db::Connection& conn, std::int64_t id) {
  auto body = [&conn, id]() -> boost::asio::awaitable<bool> {
    const auto changed = (co_await conn.query("admin_retry_migration", kRetryMigration, id)).affected_rows();
    if (changed == 0) co_return false;
    co_await conn.query("admin_retry_jobs", kRetryJobs, id);
    co_return true;
  };
  co_return co_await db::in_transaction(conn, body);
}

}  // namespace

boost::asio::awaitable<ActionResult> apply_action(db::Connection& conn, Action action, std::int64_t id) {
  bool changed = false;
  if (action == Action::retry) {
    changed = co_await retry(conn, id);
  } else {
    const auto r = co_await conn.query(action == Action::pause ? "admin_pause" : "admin_resume",
                                       action == Action::pause ? kPause : kResume, id);
    changed = r.affected_rows() > 0;
  }
  if (changed) co_return ActionResult::changed;
  const auto found = co_await conn.query("admin_exists", kExists, id);
  co_return found.empty() ? ActionResult::unknown_id : ActionResult::wrong_state;
}

}  // namespace bbmd::http

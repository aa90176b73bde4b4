// The /readyz check (see readiness.hpp).
#include "db/readiness.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bbmd::db {

namespace {

// bbmd's schema, and the grants the runtime role needs on it (README, "Database privileges"):
// without them every worker pass fails, so the process is not ready. has_*_privilege with a
// list is true if ANY is held, hence one call per privilege. `missing` is NULL when none is.
constexpr const char* kSchemaUsable =
    "SELECT present, current_user::text AS role, CASE WHEN present THEN nullif(concat_ws('; ', "
    "CASE WHEN NOT (has_table_privilege('batched_background_migrations', 'SELECT') "
    "AND has_table_privilege('batched_background_migrations', 'UPDATE')) "
    "THEN 'SELECT, UPDATE ON batched_background_migrations' END, "
    "CASE WHEN NOT (has_table_privilege('background_migration_jobs', 'SELECT') "
    "AND has_table_privilege('background_migration_jobs', 'INSERT') "
    "AND has_table_privilege('background_migration_jobs', 'UPDATE')) "
    "THEN 'SELECT, INSERT, UPDATE ON background_migration_jobs' END, "
    "CASE WHEN NOT has_sequence_privilege('bbm_lease_token_seq', 'USAGE') "
    "THEN 'USAGE ON SEQUENCE bbm_lease_token_seq' END), '') END AS missing "
    "FROM (SELECT to_regclass('batched_background_migrations') IS NOT NULL "
    "AND to_regclass('background_migration_jobs') IS NOT NULL "
    "AND to_regclass('bbm_lease_token_seq') IS NOT NULL AS present) AS schema";

}  // namespace

Readiness::Readiness(boost::asio::any_io_executor ex, ConnParams params, std::chrono::milliseconds timeout)
    : ex_(std::move(ex)), params_(std::move(params)), timeout_(timeout) {}

Readiness::~Readiness() = default;

boost::asio::awaitable<std::string> Readiness::check() {
  using namespace boost::asio::experimental::awaitable_operators;
  if (in_flight_) co_return last_;
  in_flight_ = true;
  boost::asio::steady_timer deadline(ex_, timeout_);
  auto result = co_await (probe() || deadline.async_wait(boost::asio::use_awaitable));
  if (result.index() == 0) {
    last_ = std::get<0>(result);
  } else {
    conn_.reset();  // its state is unknown after an abandoned query
    last_ = "database did not answer within " + std::to_string(timeout_.count()) + "ms";
  }
  in_flight_ = false;
  co_return last_;
}

boost::asio::awaitable<std::string> Readiness::probe() {
  std::string reason;
  try {
    if (!conn_ || conn_->broken()) conn_ = co_await Connection::connect(ex_, params_);
    auto r = co_await conn_->query("readiness", kSchemaUsable);
    if (!r.get_bool(0, "present")) {
      reason = "bbmd schema missing: run 'bbmd database migrate up <config>'";
    } else if (const auto missing = r.opt_string(0, "missing")) {
      reason = "permission denied: role \"" + r.get_string(0, "role") + "\" lacks " + *missing +
               "; grant them as the README's \"Database privileges\" shows";
    }
  } catch (const std::exception& e) {
    conn_.reset();
    reason = std::string("database unreachable: ") + e.what();
  }
  co_return reason;
}

}  // namespace bbmd::db

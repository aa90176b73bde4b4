// The readiness check on bbmd's own tables (see readiness_check.hpp).
#include "bbm/store/readiness_check.hpp"

#include "bbm/store/sql.hpp"
#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

// The grants the runtime role needs (README, "Database privileges"): without them every worker
// pass fails, so the process is not ready. has_*_privilege with a list is true if ANY is held,
// hence one call per privilege. `missing` is NULL when none is.
const std::string kTablesUsable = sql::render(
    "SELECT present, current_user::text AS role, CASE WHEN present THEN nullif(concat_ws('; ', "
    "CASE WHEN NOT (has_table_privilege('{migrations}', 'SELECT') AND has_table_privilege('{migrations}', 'UPDATE')) "
    "THEN 'SELECT, UPDATE ON {migrations}' END, "
    "CASE WHEN NOT (has_table_privilege('{jobs}', 'SELECT') AND has_table_privilege('{jobs}', 'INSERT') "
    "AND has_table_privilege('{jobs}', 'UPDATE')) THEN 'SELECT, INSERT, UPDATE ON {jobs}' END, "
    "CASE WHEN NOT has_sequence_privilege('bbm_lease_token_seq', 'USAGE') "
    "THEN 'USAGE ON SEQUENCE bbm_lease_token_seq' END), '') END AS missing "
    "FROM (SELECT to_regclass('{migrations}') IS NOT NULL AND to_regclass('{jobs}') IS NOT NULL "
    "AND to_regclass('bbm_lease_token_seq') IS NOT NULL AS present) AS schema");

}  // namespace

boost::asio::awaitable<std::string> tables_problem(db::Connection& conn) {
  auto r = co_await conn.query("readiness", kTablesUsable);
  if (!r.get_bool(0, "present")) co_return "bbmd schema missing: run 'bbmd database migrate up <config>'";
  if (const auto missing = r.opt_string(0, "missing")) {
    co_return "permission denied: role \"" + r.get_string(0, "role") + "\" lacks " + *missing +
        "; grant them as the README's \"Database privileges\" shows";
  }
  co_return "";
}

}  // namespace bbmd::bbm

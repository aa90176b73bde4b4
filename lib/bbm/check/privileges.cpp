// The target-table privilege check behind migration validation (see privileges.hpp).
#include "bbm/check/privileges.hpp"

#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

// Asked separately: a list such as 'SELECT, UPDATE' would be true when either one is held.
// has_any_column_privilege is true for a table-level grant too, so column grants are not refused
// here; a batch needing a column the role cannot touch fails with the server's message instead.
constexpr const char* kSql =
    "SELECT has_any_column_privilege($1::oid, 'SELECT') AS can_select, "
    "has_any_column_privilege($1::oid, 'UPDATE') AS can_update, current_user::text AS role";

}  // namespace

boost::asio::awaitable<Verdict> check_table_privileges(db::Connection& conn, const Bbm& m,
                                                       const Target& target) {
  const auto r = co_await conn.query("bbm_catalog_privileges", kSql, static_cast<std::int64_t>(target.table_oid));
  const bool can_select = r.get_bool(0, "can_select");
  const bool can_update = r.get_bool(0, "can_update");
  if (can_select && can_update) co_return Verdict::ok();
  const auto role = r.get_string(0, "role");
  const std::string missing = !can_select && !can_update ? "SELECT, UPDATE" : can_select ? "UPDATE" : "SELECT";
  // Held, not failed: a GRANT is the whole fix, and the migration starts at the next recheck.
  co_return Verdict::held(kHoldInsufficientPrivilege,
                          "permission denied: role \"" + role + "\" lacks " + missing + " on " + m.table_name +
                              "; run GRANT SELECT, UPDATE ON " + target.table_sql + " TO " +
                              conn.quote_identifier(role));
}

}  // namespace bbmd::bbm

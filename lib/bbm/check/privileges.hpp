#pragma once
// Whether the connection's role may run a migration's batches on its target table.
#include <boost/asio/awaitable.hpp>

#include "bbm/model/bbm.hpp"
#include "bbm/model/verdict.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

// Ok when the role holds SELECT and UPDATE on the table (or on some of its columns); otherwise a
// hold (kHoldInsufficientPrivilege) naming the role, the table and the GRANT that starts it.
boost::asio::awaitable<Verdict> check_table_privileges(db::Connection& conn, const Bbm& m, const Target& target);

}  // namespace bbmd::bbm

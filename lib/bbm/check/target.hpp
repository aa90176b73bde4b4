#pragma once
// Resolves a migration row into the quoted Target its batches run on: table, column, bounds,
// sizes, the batching strategy and the index it needs, checked against the catalog. Names are
// looked up as bound values; only names found in the catalog are ever quoted into SQL.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "bbm/model/bbm.hpp"
#include "bbm/model/verdict.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

// On success fills `target` (minus job arguments, which the work function checks).
boost::asio::awaitable<Verdict> resolve_target(db::Connection& conn, const Bbm& m, Target& target);

}  // namespace bbmd::bbm

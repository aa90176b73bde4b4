#pragma once
// The readiness check on bbmd's own tables: present, and usable by the connection's role.
#include <boost/asio/awaitable.hpp>
#include <string>

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

// "" when the tables and the sequence exist and the role holds every grant the workers need;
// otherwise what is wrong and what to run (the command, or the grants by name).
boost::asio::awaitable<std::string> tables_problem(db::Connection& conn);

}  // namespace bbmd::bbm

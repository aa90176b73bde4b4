#pragma once
// Cutting the next batch: an inclusive key range holding at most batch_size rows, found with an
// index range scan that starts at the migration's cursor (never an OFFSET from the table start).
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bbm/migration.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

struct KeyRange {
  std::int64_t min = 0;
  std::int64_t max = 0;
};

// nullopt once every range up to max_value has been issued. Runs under the lease's row lock.
boost::asio::awaitable<std::optional<KeyRange>> next_range(db::Connection& conn, const Migration& m,
                                                           const Target& target, std::int64_t batch_size);

// The statement that finds a range's upper end: rows with key in [from, to] (null keyset: still
// NULL), the first `limit` of them in key order, and the largest key among them. The bounds are
// SQL expressions: bound parameters ("$1") or columns of an enclosing query, never values.
[[nodiscard]] std::string range_end_sql(const Target& target, std::string_view from = "$1",
                                        std::string_view to = "$2", std::string_view limit = "$3");

}  // namespace bbmd::bbm

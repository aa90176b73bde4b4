#pragma once
// Cutting the next batch: an inclusive key range holding at most batch_size rows, found with an
// index range scan that starts at the migration's cursor (never an OFFSET from the table start).
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

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

// The statement that finds a range's upper end: rows with key in [$1, $2] (null keyset: still
// NULL), the first $3 of them in key order, and the largest key among them.
[[nodiscard]] std::string range_end_sql(const Target& target);

}  // namespace bbmd::bbm

#pragma once
// Cutting a batch: an inclusive key range holding at most batch_size rows, found with an index
// range scan that starts at the migration's cursor (never an OFFSET from the table start).
#include <string>
#include <string_view>

#include "bbm/model/bbm.hpp"

namespace bbmd::bbm {

// The statement that finds a range's upper end: rows with key in [from, to] (null keyset: still
// NULL), the first `limit` of them in key order, and the largest key among them. The bounds are
// SQL expressions: bound parameters ("$1") or columns of an enclosing query, never values.
[[nodiscard]] std::string range_end_sql(const Target& target, std::string_view from = "$1",
                                        std::string_view to = "$2", std::string_view limit = "$3");

}  // namespace bbmd::bbm

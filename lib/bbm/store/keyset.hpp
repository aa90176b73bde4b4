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
// Batching by limit has no ranges: this is then `from` while a row is still NULL and no job of
// the migration ($1 of the enclosing lease) is leased, else NULL.
[[nodiscard]] std::string range_end_sql(const Target& target, std::string_view from = "$1",
                                        std::string_view to = "$2", std::string_view limit = "$3");

// Whether a row of a null keyset is still NULL (batching by limit: whether work remains).
[[nodiscard]] std::string null_remains_sql(const Target& target);

}  // namespace bbmd::bbm

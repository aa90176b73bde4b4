#pragma once
// Splits a migration script into its statements, for migrations marked no-transaction:
// PostgreSQL runs a multi-statement query string as one implicit transaction, where
// CREATE INDEX CONCURRENTLY is refused, so each statement has to be sent on its own.
#include <string>
#include <vector>

namespace bbmd::schema {

// Statements in order, without their terminating ';'. Knows '...' and "..." quoting, E'..'
// escapes, $tag$...$tag$ bodies, -- and /* */ comments; statements that hold nothing but
// comments and whitespace are dropped. Throws std::invalid_argument on a comment, quote or
// dollar-quoted body that never ends.
[[nodiscard]] std::vector<std::string> split_statements(const std::string& sql);

}  // namespace bbmd::schema

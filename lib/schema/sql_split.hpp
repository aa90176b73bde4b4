#pragma once
// Splits a migration script into its statements, for migrations marked no-transaction:
// PostgreSQL runs a multi-statement query string as one implicit transaction, where
// CREATE INDEX CONCURRENTLY is refused, so each statement has to be sent on its own.
#include <string>
#include <vector>

namespace bbmd::schema {

// Statements in order, without their terminating ';', each with the comments before it (so the
// first keeps the `-- bbmd:` directives). Split by PostgreSQL 15's own grammar (libpg_query):
// quoting, E'' escapes, $tag$ bodies, nested /* */ comments and BEGIN ATOMIC ... END bodies
// are what the server sees; statements of nothing but comments are dropped. Throws
// std::invalid_argument, naming the line and column, on SQL the server would reject outright
// (an unterminated comment, quote or dollar body, a syntax error, a NUL byte): nothing of a
// script is sent before all of it parses.
[[nodiscard]] std::vector<std::string> split_statements(const std::string& sql);

}  // namespace bbmd::schema

#pragma once
// A migration's SQL as bbmd reads it without a database: split into statements (no-transaction
// migrations send them one by one) and scanned for the BBMs it queues (migrate lint). Every
// statement is a piece of the input, in order; SQL that PostgreSQL's parser refuses (an
// unterminated comment, quote or dollar body, a syntax error) is rejected whole.
#include "fuzz/entry.hpp"
#include "schema/lint.hpp"
#include "schema/sql_split.hpp"

namespace bbmd::fuzz {

inline std::string migration_sql(std::string_view input) {
  const std::string sql(input);
  std::vector<std::string> statements;
  try {
    statements = schema::split_statements(sql);
  } catch (const std::invalid_argument& e) {
    return rejected(e.what());
  }
  std::size_t from = 0;
  for (const auto& statement : statements) {
    const auto at = sql.find(statement, from);
    require(at != std::string::npos, "statement is not a piece of the input in order: " + statement);
    from = at + statement.size();
  }
  std::string out = "ok: " + std::to_string(statements.size()) + " statements; queues";
  for (const auto& bbm : schema::statically_queued_bbms(sql)) out += " '" + bbm + "'";
  return out;
}

}  // namespace bbmd::fuzz

// Statement splitting for no-transaction migrations (see sql_split.hpp), by PostgreSQL's own
// parser: libpg_query, PostgreSQL 15's scanner and grammar as a library.
#include "schema/sql_split.hpp"

#include <pg_query.h>

#include <memory>
#include <stdexcept>

namespace bbmd::schema {

namespace {

struct SplitResult {
  PgQuerySplitResult result;
  explicit SplitResult(const std::string& sql) : result(pg_query_split_with_parser(sql.c_str())) {}
  ~SplitResult() { pg_query_free_split_result(result); }
  SplitResult(const SplitResult&) = delete;
  SplitResult& operator=(const SplitResult&) = delete;
};

// "line L, column C" of the 1-based character position PostgreSQL reports an error at.
std::string position(const std::string& sql, int cursor) {
  int line = 1, column = 1, chars = 1;
  for (const char c : sql) {
    if ((static_cast<unsigned char>(c) & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte
    if (chars++ >= cursor) break;
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// PostgreSQL's message without its `at or near "<rest of the file>"` tail, and where it is.
[[noreturn]] void rejected(const std::string& sql, const PgQueryError& error) {
  std::string message = error.message;
  if (const auto near = message.find(" at or near "); near != std::string::npos) message.resize(near);
  if (error.cursorpos > 0) message += " at " + position(sql, error.cursorpos);
  throw std::invalid_argument(message);
}

}  // namespace

std::vector<std::string> split_statements(const std::string& sql) {
  // libpg_query reads a C string: whatever follows a NUL would silently not run.
  if (const auto nul = sql.find('\0'); nul != std::string::npos) {
    throw std::invalid_argument("NUL byte at byte " + std::to_string(nul));
  }
  const SplitResult split(sql);
  if (split.result.error) rejected(sql, *split.result.error);
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(split.result.n_stmts));
  for (int i = 0; i < split.result.n_stmts; ++i) {
    const auto& s = *split.result.stmts[i];
    out.push_back(sql.substr(static_cast<std::size_t>(s.stmt_location), static_cast<std::size_t>(s.stmt_len)));
  }
  return out;
}

}  // namespace bbmd::schema

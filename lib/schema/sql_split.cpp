// Statement splitting for no-transaction migrations (see sql_split.hpp).
#include "schema/sql_split.hpp"

#include <cctype>
#include <stdexcept>

namespace bbmd::schema {

namespace {

// True when `s` holds at least one character outside comments and whitespace.
bool has_code(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 2, "--") == 0) {
      i = s.find('\n', i);
      if (i == std::string::npos) return false;
    } else if (s.compare(i, 2, "/*") == 0) {
      i = s.find("*/", i + 2);
      if (i == std::string::npos) return false;
      ++i;
    } else if (!std::isspace(static_cast<unsigned char>(s[i]))) {
      return true;
    }
  }
  return false;
}

// The dollar-quote tag starting at `i` ("$$" or "$name$"), or "" if there is none.
std::string dollar_tag(const std::string& sql, std::size_t i) {
  std::size_t j = i + 1;
  while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) ++j;
  if (j >= sql.size() || sql[j] != '$') return "";
  if (j > i + 1 && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) return "";  // $1 is a parameter
  return sql.substr(i, j - i + 1);
}

// Index just past the quoted literal that opens at `i` with `quote`; '' doubles as an escape.
// Past the end (size + 1) when it never closes.
std::size_t skip_quoted(const std::string& sql, std::size_t i, char quote, bool backslash_escapes) {
  for (std::size_t j = i + 1; j < sql.size(); ++j) {
    if (backslash_escapes && sql[j] == '\\') {
      ++j;
    } else if (sql[j] == quote) {
      if (j + 1 < sql.size() && sql[j + 1] == quote) {
        ++j;
      } else {
        return j + 1;
      }
    }
  }
  return sql.size() + 1;
}

// PostgreSQL would reject the statement; sending the pieces before it first would apply half a
// migration that cannot roll back.
[[noreturn]] void unterminated(const std::string& what, std::size_t at) {
  throw std::invalid_argument("unterminated " + what + " starting at byte " + std::to_string(at));
}

}  // namespace

std::vector<std::string> split_statements(const std::string& sql) {
  std::vector<std::string> out;
  std::size_t start = 0;
  std::size_t i = 0;
  const auto flush = [&](std::size_t end) {
    auto stmt = sql.substr(start, end - start);
    if (has_code(stmt)) out.push_back(std::move(stmt));
  };
  while (i < sql.size()) {
    const char c = sql[i];
    if (sql.compare(i, 2, "--") == 0) {
      const auto nl = sql.find('\n', i);
      i = nl == std::string::npos ? sql.size() : nl + 1;
    } else if (sql.compare(i, 2, "/*") == 0) {
      const auto end = sql.find("*/", i + 2);
      if (end == std::string::npos) unterminated("/* comment", i);
      i = end + 2;
    } else if (c == '\'') {
      const bool escapes = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e');
      const auto open = i;
      i = skip_quoted(sql, i, '\'', escapes);
      if (i > sql.size()) unterminated("quoted literal", open);
    } else if (c == '"') {
      const auto open = i;
      i = skip_quoted(sql, i, '"', false);
      if (i > sql.size()) unterminated("quoted identifier", open);
    } else if (c == '$' && !dollar_tag(sql, i).empty()) {
      const auto tag = dollar_tag(sql, i);
      const auto end = sql.find(tag, i + tag.size());
      if (end == std::string::npos) unterminated(tag + " body", i);
      i = end + tag.size();
    } else if (c == ';') {
      flush(i);
      start = ++i;
    } else {
      ++i;
    }
  }
  flush(sql.size());
  return out;
}

}  // namespace bbmd::schema

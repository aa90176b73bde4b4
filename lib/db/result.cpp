// Typed, column-named reads over one owned PGresult.
#include "db/result.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <limits>
#include <stdexcept>
#include <string>

namespace bbmd::db {

namespace {

std::string column_label(const PGresult* res, int col) {
  const char* name = res ? PQfname(res, col) : nullptr;
  return name ? std::string("column \"") + name + "\"" : "column #" + std::to_string(col);
}

[[noreturn]] void bad_value(const PGresult* res, int row, int col, const char* what, std::string_view text) {
  throw std::runtime_error(column_label(res, col) + " row " + std::to_string(row) + ": " + what + " (got \"" +
                           std::string(text) + "\")");
}

}  // namespace

void Result::Deleter::operator()(pg_result* r) const noexcept { PQclear(r); }

Result::Result(pg_result* res) noexcept : res_(res) {}

int Result::rows() const noexcept { return res_ ? PQntuples(res_.get()) : 0; }

int Result::columns() const noexcept { return res_ ? PQnfields(res_.get()) : 0; }

std::int64_t Result::affected_rows() const noexcept {
  if (!res_) return 0;
  std::string_view text = PQcmdTuples(res_.get());
  std::int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

int Result::column(std::string_view name) const {
  for (int i = 0; i < columns(); ++i) {
    if (name == PQfname(res_.get(), i)) return i;
  }
  throw std::out_of_range("result has no column \"" + std::string(name) + "\"");
}

bool Result::is_null(int row, int col) const noexcept {
  return !res_ || PQgetisnull(res_.get(), row, col) != 0;
}

std::string_view Result::text(int row, int col) const noexcept {
  if (is_null(row, col)) return {};
  return {PQgetvalue(res_.get(), row, col), static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
}

std::string Result::get_string(int row, int col) const {
  if (auto v = opt_string(row, col)) return *std::move(v);
  bad_value(res_.get(), row, col, "unexpected NULL", "NULL");
}

std::int64_t Result::get_int(int row, int col) const {
  if (auto v = opt_int(row, col)) return *v;
  bad_value(res_.get(), row, col, "unexpected NULL", "NULL");
}

double Result::get_double(int row, int col) const {
  if (auto v = opt_double(row, col)) return *v;
  bad_value(res_.get(), row, col, "unexpected NULL", "NULL");
}

bool Result::get_bool(int row, int col) const {
  if (is_null(row, col)) bad_value(res_.get(), row, col, "unexpected NULL", "NULL");
  auto t = text(row, col);
  if (t == "t") return true;
  if (t == "f") return false;
  bad_value(res_.get(), row, col, "not a boolean", t);
}

std::optional<std::string> Result::opt_string(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return std::string(text(row, col));
}

std::optional<std::int64_t> Result::opt_int(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  auto t = text(row, col);
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{} || end != t.data() + t.size()) bad_value(res_.get(), row, col, "not an integer", t);
  return v;
}

std::optional<double> Result::opt_double(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  auto t = text(row, col);
  // PostgreSQL spells the specials its own way; from_chars does not accept "Infinity".
  if (t == "Infinity") return std::numeric_limits<double>::infinity();
  if (t == "-Infinity") return -std::numeric_limits<double>::infinity();
  if (t == "NaN") return std::numeric_limits<double>::quiet_NaN();
  double v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{} || end != t.data() + t.size()) bad_value(res_.get(), row, col, "not a number", t);
  return v;
}

}  // namespace bbmd::db

#pragma once
// Owns one query result (RAII over PGresult) and reads its cells as typed values.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct pg_result;

namespace bbmd::db {

class Result {
 public:
  Result() = default;
  explicit Result(pg_result* res) noexcept;  // takes ownership

  [[nodiscard]] int rows() const noexcept;
  [[nodiscard]] int columns() const noexcept;
  [[nodiscard]] bool empty() const noexcept { return rows() == 0; }
  // Rows changed by INSERT/UPDATE/DELETE (PQcmdTuples), 0 for other statements.
  [[nodiscard]] std::int64_t affected_rows() const noexcept;

  [[nodiscard]] int column(std::string_view name) const;  // throws std::out_of_range if absent
  [[nodiscard]] bool is_null(int row, int col) const noexcept;
  [[nodiscard]] std::string_view text(int row, int col) const noexcept;  // "" for NULL

  // Typed reads; throw std::runtime_error naming the column on NULL or bad format.
  [[nodiscard]] std::string get_string(int row, int col) const;
  [[nodiscard]] std::int64_t get_int(int row, int col) const;
  [[nodiscard]] double get_double(int row, int col) const;
  [[nodiscard]] bool get_bool(int row, int col) const;
  [[nodiscard]] std::optional<std::string> opt_string(int row, int col) const;
  [[nodiscard]] std::optional<std::int64_t> opt_int(int row, int col) const;
  [[nodiscard]] std::optional<double> opt_double(int row, int col) const;

  // Same reads by column name.
  [[nodiscard]] std::string get_string(int row, std::string_view col) const { return get_string(row, column(col)); }
  [[nodiscard]] std::int64_t get_int(int row, std::string_view col) const { return get_int(row, column(col)); }
  [[nodiscard]] double get_double(int row, std::string_view col) const { return get_double(row, column(col)); }
  [[nodiscard]] bool get_bool(int row, std::string_view col) const { return get_bool(row, column(col)); }
  [[nodiscard]] std::optional<std::string> opt_string(int row, std::string_view col) const { return opt_string(row, column(col)); }
  [[nodiscard]] std::optional<std::int64_t> opt_int(int row, std::string_view col) const { return opt_int(row, column(col)); }
  [[nodiscard]] std::optional<double> opt_double(int row, std::string_view col) const { return opt_double(row, column(col)); }

 private:
  struct Deleter {
    void operator()(pg_result* r) const noexcept;
  };
  std::unique_ptr<pg_result, Deleter> res_;
};

}  // namespace bbmd::db

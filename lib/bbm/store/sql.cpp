// Placeholder expansion for bbm's statements (see sql.hpp).
#include "bbm/store/sql.hpp"

#include <optional>
#include <stdexcept>

#include "bbm/model/status_codes.hpp"

namespace bbmd::bbm::sql {

namespace {

template <typename Enum, std::size_t N>
std::optional<std::string> number_named(std::string_view name, const Enum (&all)[N]) {
  for (const auto value : all) {
    if (to_string(value) == name) return std::to_string(static_cast<int>(value));
  }
  return std::nullopt;
}

std::optional<std::string> expand(std::string_view word) {
  if (word == "migrations") return std::string(kMigrationsTable);
  if (word == "jobs") return std::string(kJobsTable);
  if (word.starts_with("m.")) return number_named(word.substr(2), kAllMigrationStatuses);
  if (word.starts_with("j.")) return number_named(word.substr(2), kAllJobStatuses);
  if (word.starts_with("code.")) return number_named(word.substr(5), kAllFailureCodes);
  return std::nullopt;
}

}  // namespace

std::string render(std::string_view statement) {
  std::string out;
  out.reserve(statement.size());
  for (std::size_t pos = 0; pos < statement.size();) {
    const auto open = statement.find('{', pos);
    if (open == std::string_view::npos) {
      out += statement.substr(pos);
      break;
    }
    const auto close = statement.find('}', open);
    if (close == std::string_view::npos) throw std::logic_error("unclosed placeholder in: " + std::string(statement));
    const auto word = statement.substr(open + 1, close - open - 1);
    const auto value = expand(word);
    if (!value) throw std::logic_error("unknown placeholder {" + std::string(word) + "} in: " + std::string(statement));
    out += statement.substr(pos, open - pos);
    out += *value;
    pos = close + 1;
  }
  return out;
}

std::string running_jobs(std::string_view filter) {
  return "(SELECT count(*) FROM {jobs} WHERE " + (filter.empty() ? std::string() : std::string(filter) + " AND ") +
         "status = {j.active} AND lease_expires_at > statement_timestamp())";
}

}  // namespace bbmd::bbm::sql

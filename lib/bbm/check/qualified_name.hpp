#pragma once
// Splitting the "schema.name" text of a migration row (table_name, a sequence argument) before
// the catalog is asked about it. Pure, so it is fuzzed without a database (tests/fuzz).
#include <optional>
#include <string>

namespace bbmd::bbm {

struct QualifiedName {
  std::string schema;
  std::string name;
};
// "schema.table" or "table" (public); nullopt for empty parts or more than one dot.
[[nodiscard]] std::optional<QualifiedName> split_qualified(const std::string& text);

}  // namespace bbmd::bbm

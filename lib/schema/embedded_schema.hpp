#pragma once
// bbmd's own schema migrations, compiled in from sql/schema/ (see cmake/embed_sql.cmake).
#include <string_view>
#include <vector>

namespace bbmd::schema {

struct EmbeddedFile {
  std::string_view name;     // e.g. 20260101000000_create_bbm_tables.up.sql
  std::string_view content;
};

// Sorted by name.
const std::vector<EmbeddedFile>& embedded_schema_files();

}  // namespace bbmd::schema

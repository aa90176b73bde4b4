#pragma once
// bbmd's own schema migrations (compiled in from sql/schema/), as MigrationFiles.
#include <vector>

#include "schema/migration_file.hpp"

namespace bbmd::schema {

// Pairs of <version>.up.sql / .down.sql, sorted by version. Throws std::logic_error if the
// shipped files are inconsistent (a test guards this).
[[nodiscard]] std::vector<MigrationFile> own_migrations();

}  // namespace bbmd::schema

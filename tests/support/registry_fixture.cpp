// The registry-shaped database (see registry_fixture.hpp).
#include "support/registry_fixture.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bbmd::test {

std::string registry_schema_sql() {
  std::ifstream in(std::string(BBMD_SOURCE_DIR) + "/tests/fixtures/registry/schema.sql");
  std::ostringstream sql;
  sql << in.rdbuf();
  if (sql.str().empty()) throw std::runtime_error("tests/fixtures/registry/schema.sql is missing or empty");
  return sql.str();
}

void create_registry_schema(TestDatabase& db) { db.exec(registry_schema_sql()); }

std::int64_t queue_registry_bbm(TestDatabase& db, const RegistryBbm& row) {
  return std::stoll(db.scalar(
      "INSERT INTO batched_background_migrations (name, min_value, max_value, batch_size, sub_batch_size, status, "
      "job_signature_name, table_name, column_name, batching_strategy) VALUES (" +
      db.scalar("SELECT format('%L, ', '" + row.name + "')") + std::to_string(row.min_value) + ", " +
      std::to_string(row.max_value) + ", " + std::to_string(row.batch_size) + ", " +
      std::to_string(row.sub_batch_size) + ", " + std::to_string(row.status) + ", " +
      db.scalar("SELECT format('%L, %L, %L, %L', '" + row.job_signature_name + "', '" + row.table_name + "', '" +
                row.column_name + "', nullif('" + row.batching_strategy + "', ''))") +
      ") RETURNING id"));
}

void add_registry_job(TestDatabase& db, std::int64_t bbm_id, std::int64_t min, std::int64_t max, int status,
                      int attempts) {
  db.exec("INSERT INTO batched_background_migration_jobs (batched_background_migration_id, min_value, max_value, "
          "status, attempts, started_at, finished_at) VALUES (" +
          std::to_string(bbm_id) + ", " + std::to_string(min) + ", " + std::to_string(max) + ", " +
          std::to_string(status) + ", " + std::to_string(attempts) + ", now(), " +
          (status == 2 ? "now()" : "NULL") + ")");
}

}  // namespace bbmd::test

#pragma once
// A database as the GitLab container registry leaves it (REGISTRY.md): its BBM tables in their
// final shape, its sql-migrate record tables, and rows and jobs queued the way it queues them.
#include <cstdint>
#include <string>

#include "support/test_db.hpp"

namespace bbmd::test {

// The registry's tables, created as its schema migrations leave them, with three applied
// migrations recorded in schema_migrations and one in post_deploy_schema_migrations.
void create_registry_schema(TestDatabase& db);
// The SQL that creates them (tests/fixtures/registry/schema.sql), for a server of the test's own.
[[nodiscard]] std::string registry_schema_sql();

// A BBM row with only the registry's columns, as its schema migrations insert them.
struct RegistryBbm {
  std::string name = "20240604074823_copy_media_type_id";
  std::string table_name = "public.t";
  std::string column_name = "id";
  std::string job_signature_name = "copyBlobMediaTypeIDToNewBigIntColumn";
  std::string batching_strategy;  // "" = NULL
  std::int64_t min_value = 1;
  std::int64_t max_value = 9223372036854775807;  // the registry's "overshoot"
  int batch_size = 100;
  int sub_batch_size = 0;
  int status = 1;
};
std::int64_t queue_registry_bbm(TestDatabase& db, const RegistryBbm& row);

// A job row as the registry's worker writes it.
void add_registry_job(TestDatabase& db, std::int64_t bbm_id, std::int64_t min, std::int64_t max, int status,
                      int attempts);

}  // namespace bbmd::test

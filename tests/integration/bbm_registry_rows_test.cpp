// BBM rows as the registry queues them, run by the runner against a real PostgreSQL: its
// NullKeySetBatchingStrategy on a hash-partitioned table keyed by a bytea digest (batched by
// limit, 0/0 bounds), its shipped work functions with CamelCase names, and what ends such a
// migration when its work cannot progress.
#include <catch2/catch.hpp>

#include "support/bbm_fixture.hpp"
#include "support/runner_fixture.hpp"

using bbmd::bbm::StepResult;
using bbmd::bbm::WorkRegistry;
using bbmd::test::MigrationRow;
using bbmd::test::TestDatabase;
using bbmd::test::drive;
using Kinds = std::vector<StepResult::Kind>;
using Rows = std::vector<std::vector<std::string>>;

namespace {

// blobs as the registry partitions them: keyed by digest, id still NULL on `rows` rows.
void make_blobs(TestDatabase& db, int rows) {
  bbmd::test::apply_bbmd_schema(db);
  db.exec("CREATE TABLE blobs (digest bytea NOT NULL, id bigint, media_type_id integer, PRIMARY KEY (digest)) "
          "PARTITION BY HASH (digest)");
  for (int p = 0; p < 4; ++p) {
    db.exec("CREATE TABLE blobs_p_" + std::to_string(p) + " PARTITION OF blobs FOR VALUES WITH (MODULUS 4, REMAINDER " +
            std::to_string(p) + ")");
  }
  db.exec("INSERT INTO blobs (digest) SELECT decode(md5(g::text), 'hex') FROM generate_series(1, " +
          std::to_string(rows) + ") g");
  db.exec("CREATE SEQUENCE blobs_id_seq");
}

std::int64_t queue_populate(TestDatabase& db, const std::string& function = "populateBlobsIDColumn") {
  MigrationRow row;
  row.name = "20240719150000_populate_blobs_id";
  row.table_name = "public.blobs";
  row.column_name = "id";
  row.job_signature_name = function;
  row.job_arguments = "{}";
  row.batching_strategy = "NullKeySetBatchingStrategy";
  row.min_value = 0;
  row.max_value = 0;
  row.batch_size = 100;
  return bbmd::test::queue_migration(db, row);
}

}  // namespace

TEST_CASE("the registry's populateBlobsIDColumn fills every NULL id of a digest-keyed partitioned table, at most "
          "batch_size rows a job", "[bbm][registry][limit]") {
  TestDatabase db;
  make_blobs(db, 1050);
  const auto id = queue_populate(db);

  SECTION("without its partial index: held, with the CREATE INDEX to run") {
    CHECK(drive(db, WorkRegistry{}, id) == Kinds{StepResult::Kind::held});
    CHECK(db.rows("SELECT status, hold_code, hold_reason FROM batched_background_migrations") ==
          Rows{{"1", "missing_index", "null keyset batching needs the partial index: CREATE INDEX CONCURRENTLY ON "
                                      "\"public\".\"blobs\" (\"id\") WHERE \"id\" IS NULL"}});
    CHECK(db.count("SELECT count(*) FROM background_migration_jobs") == 0);
  }
  SECTION("with it: 11 jobs of at most 100 rows, each id given once, then finished") {
    db.exec("CREATE INDEX blobs_id_null ON blobs (id) WHERE id IS NULL");
    const auto kinds = drive(db, WorkRegistry{}, id);
    CHECK(kinds.back() == StepResult::Kind::migration_finished);
    CHECK(kinds.size() == 12);
    CHECK(db.count("SELECT count(*) FROM blobs WHERE id IS NULL") == 0);
    CHECK(db.count("SELECT count(DISTINCT id) FROM blobs") == 1050);
    CHECK(db.rows("SELECT count(*), max(rows_affected), sum(rows_affected), min(min_value), max(max_value) "
                  "FROM background_migration_jobs WHERE status = 2") == Rows{{"11", "100", "1050", "0", "0"}});
    CHECK(db.rows("SELECT status, failure_error_code IS NULL FROM batched_background_migrations") == Rows{{"2", "t"}});
  }
}

TEST_CASE("batching by limit, a job that changes no row while NULLs remain fails, and the migration ends failed",
          "[bbm][registry][limit]") {
  TestDatabase db;
  make_blobs(db, 50);
  db.exec("CREATE INDEX blobs_id_null ON blobs (id) WHERE id IS NULL");
  const auto registry = bbmd::test::registry_with(
      "forgetsToFill", "UPDATE {{table}} SET media_type_id = 1 WHERE {{column}} IS NULL AND false AND $1 > 0");
  const auto id = queue_populate(db, "forgetsToFill");

  const auto kinds = drive(db, registry, id, bbmd::test::runner_options(3));
  CHECK(kinds == Kinds{StepResult::Kind::job_failed, StepResult::Kind::job_failed, StepResult::Kind::job_failed,
                       StepResult::Kind::migration_failed});
  CHECK(db.rows("SELECT status, failure_error_code FROM batched_background_migrations") == Rows{{"3", "4"}});
  CHECK(db.rows("SELECT status, attempts, failure_error_code, last_error FROM background_migration_jobs") ==
        Rows{{"3", "3", "11", "the work changed no rows while rows with id IS NULL remain in public.blobs: it would "
                              "never finish"}});
  CHECK(db.count("SELECT count(*) FROM blobs WHERE id IS NULL") == 50);
}

TEST_CASE("a key-range work function on a table batched by limit fails the migration, naming why",
          "[bbm][registry][limit]") {
  TestDatabase db;
  make_blobs(db, 10);
  db.exec("CREATE INDEX blobs_id_null ON blobs (id) WHERE id IS NULL");
  const auto id = queue_populate(db, "copyBlobMediaTypeIDToNewBigIntColumn");
  CHECK(drive(db, WorkRegistry{}, id) == Kinds{StepResult::Kind::migration_failed});
  CHECK(db.rows("SELECT status, failure_error_code FROM batched_background_migrations") == Rows{{"3", "5"}});
}

TEST_CASE("the registry's copy work functions run on an id range up to the largest bigint, and progress counts "
          "the keys that exist", "[bbm][registry]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  db.exec("CREATE TABLE manifests (id bigint PRIMARY KEY, media_type_id integer, media_type_id_convert_to_bigint bigint)");
  db.exec("INSERT INTO manifests SELECT g, g % 7 FROM generate_series(1, 500) g");
  MigrationRow row;
  row.name = "20240604074823_copy_manifest_media_type";
  row.table_name = "public.manifests";
  row.column_name = "id";
  row.job_signature_name = "copyManifestMediaTypeIDToNewBigIntColumn";
  row.job_arguments = "{}";
  row.max_value = 9223372036854775807;
  row.batch_size = 200;
  const auto id = bbmd::test::queue_migration(db, row);

  const auto first = drive(db, WorkRegistry{}, id, bbmd::test::runner_options(), 1);
  CHECK(first == Kinds{StepResult::Kind::job_finished});
  CHECK(db.scalar("SELECT key_ceiling FROM batched_background_migrations") == "500");
  const auto kinds = drive(db, WorkRegistry{}, id);
  CHECK(kinds.back() == StepResult::Kind::migration_finished);
  CHECK(db.count("SELECT count(*) FROM manifests WHERE media_type_id_convert_to_bigint IS DISTINCT FROM media_type_id") == 0);
  CHECK(db.rows("SELECT min_value, max_value FROM background_migration_jobs ORDER BY min_value") ==
        Rows{{"1", "200"}, {"201", "400"}, {"401", "500"}});
}

TEST_CASE("a partitioned table whose batching index is missing on one partition holds the migration, naming it",
          "[bbm][registry][partitions]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  db.exec("CREATE SCHEMA partitions");
  db.exec("CREATE TABLE m (id bigint NOT NULL, a integer, b bigint, changes int NOT NULL DEFAULT 0) "
          "PARTITION BY HASH (id)");
  db.exec("CREATE TABLE partitions.m_p_0 PARTITION OF m FOR VALUES WITH (MODULUS 2, REMAINDER 0)");
  db.exec("CREATE TABLE partitions.m_p_1 PARTITION OF m FOR VALUES WITH (MODULUS 2, REMAINDER 1)");
  db.exec("INSERT INTO m (id, a) SELECT g, g FROM generate_series(1, 100) g");
  // The parent's index stays invalid until every partition has one attached.
  db.exec("CREATE INDEX m_a ON ONLY m (a)");
  db.exec("CREATE INDEX m_p_0_a ON partitions.m_p_0 (a)");
  db.exec("ALTER INDEX m_a ATTACH PARTITION partitions.m_p_0_a");
  MigrationRow row;
  row.table_name = "public.m";
  row.column_name = "a";
  row.max_value = 100;
  const auto id = bbmd::test::queue_migration(db, row);

  CHECK(drive(db, WorkRegistry{}, id) == Kinds{StepResult::Kind::held});
  CHECK(db.rows("SELECT hold_code, hold_reason FROM batched_background_migrations") ==
        Rows{{"missing_index", "no valid btree index leads with column 'a' on public.m; partitions without a valid "
                               "one: partitions.m_p_1; create one to start batching"}});

  db.exec("CREATE INDEX m_p_1_a ON partitions.m_p_1 (a)");
  db.exec("ALTER INDEX m_a ATTACH PARTITION partitions.m_p_1_a");
  db.exec("UPDATE batched_background_migrations SET hold_until = now()");
  CHECK(drive(db, WorkRegistry{}, id).back() == StepResult::Kind::migration_finished);
  CHECK(db.count("SELECT count(*) FROM m WHERE b IS DISTINCT FROM a") == 0);
}

// Scenario 9: the registry's queue shape. A hash-partitioned manifests table (the registry's
// columns and key) with one migration per partition, queued as the registry queues them (its
// work function copyManifestMediaTypeIDToNewBigIntColumn, max_value the largest bigint, batch
// 100,000, so each migration is one or two jobs), run by one process of 2 workers, against a
// PL/pgSQL loop that runs the same UPDATEs partition by partition over the same keyset ranges.
// Short migrations make the fixed cost of each (validation, start and finish bookkeeping, the
// first lease, the final empty lease) the figure.
#include <string>

#include "bench/bench.hpp"
#include "bench/harness.hpp"

namespace bbmd::bench {

namespace {

constexpr int kBatchSize = 100'000;

std::string partition(int r) { return "partitions.manifests_p_" + std::to_string(r); }

void make_manifests(test::TestDatabase& db, int partitions, long long rows) {
  db.exec("CREATE SCHEMA IF NOT EXISTS partitions");
  db.exec("CREATE TABLE manifests (top_level_namespace_id bigint NOT NULL, id bigint NOT NULL, "
          "media_type_id smallint NOT NULL, media_type_id_convert_to_bigint bigint, "
          "PRIMARY KEY (top_level_namespace_id, id)) PARTITION BY HASH (top_level_namespace_id)");
  for (int r = 0; r < partitions; ++r) {
    db.exec("CREATE TABLE " + partition(r) + " PARTITION OF manifests FOR VALUES WITH (MODULUS " +
            std::to_string(partitions) + ", REMAINDER " + std::to_string(r) + ") WITH (autovacuum_enabled = false)");
  }
  db.exec("CREATE INDEX ON manifests (id)");
  db.exec("INSERT INTO manifests SELECT g % 1000, g, (g % 50)::smallint, NULL FROM generate_series(1, " +
          std::to_string(rows) + ") g");
}

// Every run starts from the same state: each row updated once and vacuumed. Fresh from the
// INSERT the pages are full and no update can be HOT; after one round they have room, so a run
// on the fresh table would be measured against runs on roomier ones (it took twice as long).
void reset_manifests(test::TestDatabase& db) {
  db.exec("UPDATE manifests SET media_type_id_convert_to_bigint = NULL");
  db.exec("VACUUM (ANALYZE) manifests");
  db.exec("CHECKPOINT");
}

void expect_converted(test::TestDatabase& db, long long rows) {
  const auto left = db.count("SELECT count(*) FROM manifests WHERE media_type_id_convert_to_bigint IS DISTINCT FROM media_type_id");
  const auto total = db.count("SELECT count(*) FROM manifests");
  if (left != 0 || total != rows) {
    throw BenchError("manifests: " + std::to_string(left) + " rows not converted of " + std::to_string(total));
  }
}

// Partition by partition, keyset ranges of `step` keys as bbmd cuts them, one COMMIT per range.
double loop_seconds(test::TestDatabase& db, int partitions) {
  db.exec("CREATE OR REPLACE PROCEDURE registry_loop(parts int, step int) LANGUAGE plpgsql AS $$\n"
          "DECLARE lo bigint; hi bigint; p text;\n"
          "BEGIN\n"
          "  FOR r IN 0 .. parts - 1 LOOP\n"
          "    p := format('partitions.manifests_p_%s', r);\n"
          "    lo := 1;\n"
          "    LOOP\n"
          "      EXECUTE format('SELECT max(id) FROM (SELECT id FROM %s WHERE id >= $1 ORDER BY id LIMIT $2) s', p)\n"
          "        INTO hi USING lo, step;\n"
          "      EXIT WHEN hi IS NULL;\n"
          "      EXECUTE format('UPDATE %s SET media_type_id_convert_to_bigint = media_type_id WHERE id BETWEEN $1 AND $2 '\n"
          "                     'AND media_type_id_convert_to_bigint IS DISTINCT FROM media_type_id', p) USING lo, hi;\n"
          "      COMMIT;\n"
          "      lo := hi + 1;\n"
          "    END LOOP;\n"
          "  END LOOP;\n"
          "END $$");
  LoopSession loop(db.conninfo());
  return timed([&] {
    loop.exec("CALL registry_loop(" + std::to_string(partitions) + ", " + std::to_string(kBatchSize) + ")");
  });
}

std::vector<std::int64_t> queue_registry_migrations(test::TestDatabase& db, int partitions) {
  db.exec("INSERT INTO batched_background_migrations (name, min_value, max_value, batch_size, status, "
          "job_signature_name, table_name, column_name) "
          "SELECT format('20240604074823_copy_manifest_media_type_id_p_%s', r), 1, 9223372036854775807, " +
          std::to_string(kBatchSize) + ", 1, 'copyManifestMediaTypeIDToNewBigIntColumn', "
          "format('partitions.manifests_p_%s', r), 'id' FROM generate_series(0, " + std::to_string(partitions - 1) +
          ") r");
  std::vector<std::int64_t> ids;
  for (const auto& row : db.rows("SELECT id FROM batched_background_migrations ORDER BY id")) ids.push_back(std::stoll(row[0]));
  return ids;
}

}  // namespace

void registry_queue_shape(const Options& options, Report& report) {
  const int partitions = options.quick ? 16 : 64;
  const long long rows = options.quick ? 200'000 : 2'000'000;
  test::TestDatabase db;
  test::apply_bbmd_schema(db);
  make_manifests(db, partitions, rows);

  reset_manifests(db);
  const double before = loop_seconds(db, partitions);
  expect_converted(db, rows);
  reset_manifests(db);

  const auto ids = queue_registry_migrations(db, partitions);
  Serve serve(db, bench_config({{"database.backgroundmigrations.workers", "2"}}));
  wait_finished(db, ids, std::chrono::seconds(options.quick ? 300 : 1800));
  serve.stop();
  const double bbmd = migration_seconds(db, ids);
  const auto jobs = db.count("SELECT count(*) FROM background_migration_jobs");
  expect_converted(db, rows);
  reset_manifests(db);

  const double after = loop_seconds(db, partitions);
  const double loop = (before + after) / 2;
  const std::string shape = std::to_string(partitions) + " migrations, one per partition of " + std::to_string(rows) +
                            " rows, batch 100000";
  report.add({"registry loop, partition by partition (" + shape + "; mean of a run before and after bbmd)",
              static_cast<double>(rows) / loop, "rows/s", std::nullopt, "", true});
  report.add({"  loop before bbmd", static_cast<double>(rows) / before, "rows/s", std::nullopt, "", true});
  report.add({"  loop after bbmd", static_cast<double>(rows) / after, "rows/s", std::nullopt, "", true});
  report.add({"registry queue shape (" + shape + ", 2 workers)", static_cast<double>(rows) / bbmd, "rows/s",
              loop / bbmd, ">= 0.9x", loop / bbmd >= 0.9});
  report.add({"  fixed cost per migration beyond the loop's time for it", 1000 * (bbmd - loop) / partitions, "ms",
              std::nullopt, "", true});
  report.add({"  jobs per migration", static_cast<double>(jobs) / partitions, "jobs", std::nullopt, "", true});
}

}  // namespace bbmd::bench

#pragma once
// Test fixtures for migrations: bbmd's schema in a test database, migration rows, config files.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "support/process.hpp"
#include "support/test_db.hpp"

namespace bbmd::test {

// The table every tier's tests migrate: t(id bigint pk, a int, b bigint, changes int) with ids
// 1..n, a = id * 10, b NULL and changes 0 (a work function that counts its touches in `changes`
// shows exactly-once as all 1).
[[nodiscard]] std::string t_table_sql(int n);
void make_table(TestDatabase& db, int n);

// n(id bigint pk, v bigint) with ids 1..200, v NULL except -1 on every third row, the sequence
// n_seq, and a fill_from_sequence migration (null keyset, batches of 30) named `name` over it,
// without the partial index null keyset batching needs. Returns the migration's id.
std::int64_t queue_fill_n(TestDatabase& db, const std::string& name = "20260101000006_fill_n");

// Applies bbmd's own schema (the embedded sql/schema files) with plain SQL.
void apply_bbmd_schema(TestDatabase& db);

struct MigrationRow {
  std::string name = "20260101000000_test_migration";
  std::string table_name = "public.t";
  std::string column_name = "id";
  std::string job_signature_name = "copy_column";
  std::string job_arguments = R"({"from": "a", "to": "b"})";
  std::optional<std::string> batching_strategy;
  std::int64_t min_value = 1;
  std::int64_t max_value = 0;
  std::int64_t batch_size = 50;
  std::int64_t sub_batch_size = 0;
  int status = 1;
};
// Inserts the row with bound-literal quoting done by the server (format %L); returns its id.
std::int64_t queue_migration(TestDatabase& db, const MigrationRow& row);

// Dotted config key -> YAML scalar (already quoted if needed), e.g. {"log.level", "debug"}.
using ConfigOverrides = std::map<std::string, std::string>;

// A config file for `db` in its own folder, with fast test pacing (no startup jitter, short
// backoff, short hold interval, ephemeral debug port), plus `overrides`.
class ConfigFile {
 public:
  ConfigFile(const TestDatabase& db, const ConfigOverrides& overrides = {});
  // The same for any server (e.g. a PgCluster of the test's own).
  ConfigFile(const config::Database& database, const ConfigOverrides& overrides = {});
  [[nodiscard]] std::string path() const { return path_.string(); }
  [[nodiscard]] const TempDir& dir() const noexcept { return dir_; }

 private:
  TempDir dir_;
  std::filesystem::path path_;
};

// Renders dotted keys as nested YAML.
std::string render_yaml(const ConfigOverrides& values);
// The debug listener's port, read from a serve process's "debug listener started" log line.
std::optional<int> debug_port(const std::string& log);

}  // namespace bbmd::test

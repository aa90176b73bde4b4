#pragma once
// Shared setup for the `database migrate` end-to-end tests: a database, pre/post migration
// folders written per test, a config pointing at both, and catalog snapshots to compare.
#include <nlohmann/json.hpp>
#include <string>

#include "support/bbm_fixture.hpp"
#include "support/process.hpp"
#include "support/test_db.hpp"

namespace bbmd::e2e {

class MigrateSetup {
 public:
  MigrateSetup()
      : cfg(db, {{"database.migrations.pre", nlohmann::json((dirs.path() / "pre").string()).dump()},
                 {"database.migrations.post", nlohmann::json((dirs.path() / "post").string()).dump()}}) {}

  void pre(const std::string& version, const std::string& up, const std::string& down = "SELECT 1;") {
    write("pre", version, up, down);
  }
  void post(const std::string& version, const std::string& up, const std::string& down = "SELECT 1;") {
    write("post", version, up, down);
  }
  void write(const std::string& kind, const std::string& version, const std::string& up, const std::string& down) {
    dirs.write(kind + "/" + version + ".up.sql", up);
    dirs.write(kind + "/" + version + ".down.sql", down);
  }
  [[nodiscard]] std::string path(const std::string& kind, const std::string& file) const {
    return (dirs.path() / kind / file).string();
  }

  // `bbmd database migrate <verb> [extra...] <config>`
  test::CommandResult migrate(const std::string& verb, std::vector<std::string> extra = {},
                              const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> args{"database", "migrate", verb};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(cfg.path());
    return test::run_bbmd(args, std::chrono::seconds(60), env);
  }

  // Columns, indexes (with validity) and tables of the public schema, one line each, sorted.
  std::string catalog() {
    return db.scalar(
        "SELECT coalesce(string_agg(x, E'\\n' ORDER BY x), '') FROM ("
        " SELECT 'col ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' ||"
        "        coalesce(column_default, '') AS x FROM information_schema.columns WHERE table_schema = 'public'"
        " UNION ALL SELECT 'idx ' || i.indexname || ' ' || i.indexdef || ' valid=' || x.indisvalid"
        "   FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid"
        "   WHERE i.schemaname = 'public'"
        " UNION ALL SELECT 'tbl ' || table_name FROM information_schema.tables WHERE table_schema = 'public') s");
  }
  // Every record row of both tables, as text.
  std::string records() {
    return db.scalar(
        "SELECT coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '') FROM ("
        " SELECT 'pre' AS k, id, state, applied_at, error, marked_reason FROM bbmd_schema_migrations"
        " UNION ALL SELECT 'post', id, state, applied_at, error, marked_reason FROM bbmd_post_deploy_schema_migrations) r");
  }
  [[nodiscard]] long long recorded(const std::string& table, const std::string& version) {
    return db.count("SELECT count(*) FROM " + table + " WHERE id = '" + version + "' AND state = 'applied'");
  }
  // `migrate status --json` as version -> state.
  std::map<std::string, std::string> states() {
    const auto r = migrate("status", {"--json"});
    std::map<std::string, std::string> out;
    for (const auto& row : nlohmann::json::parse(r.out)) out[row["version"]] = row["state"];
    return out;
  }

  test::TestDatabase db;
  test::TempDir dirs;
  test::ConfigFile cfg;
};

using test::t_table_sql;

// An up script that queues the copy_column BBM `name` over t.
inline std::string queue_bbm_sql(const std::string& name) {
  return "INSERT INTO batched_background_migrations (name, table_name, column_name, job_signature_name,\n"
         "  job_arguments, min_value, max_value, batch_size, status)\n"
         "VALUES ('" + name + "', 'public.t', 'id', 'copy_column', '{\"from\": \"a\", \"to\": \"b\"}', 1,\n"
         "  (SELECT coalesce(max(id), 1) FROM t), 100, 1);\n";
}

}  // namespace bbmd::e2e

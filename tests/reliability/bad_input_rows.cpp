// Bad input catalogue, migration rows: one database holding every bad row at once, one
// `bbmd serve` over it. Each row ends exactly as its case states (rejected by the schema, ignored,
// failed with a code, held with a reason, or finished), and no table or row outside the
// finishing migrations' ranges changes.
#include <optional>

#include "reliability/bad_input_support.hpp"
#include "support/bbm_fixture.hpp"
#include "support/poll.hpp"

namespace bbmd::reliability {

namespace {

constexpr const char* kGroup = "bad rows";

enum class Ends { rejected, ignored, failed, held, finished };

// A table a finishing case migrates with copy_column: every row in [lo, hi] gets to = from,
// every other row keeps to NULL. Names are SQL (already quoted).
struct Target {
  std::string table;
  std::int64_t lo = 1;
  std::int64_t hi = 100;
  std::string key = "id";
  std::string from = "a";
  std::string to = "b";
};

struct RowCase {
  std::string name;
  // table_name, column_name, job_signature_name, job_arguments, batching_strategy, min_value,
  // max_value, batch_size, sub_batch_size, status: SQL expressions, so NULLs and odd text fit.
  std::string values;
  Ends ends;
  std::string expected;  // rejected: the server's message; ignored: status; failed: code; held: hold_code
  std::optional<Target> target{};
};

constexpr const char* kColumns =
    "table_name, column_name, job_signature_name, job_arguments, batching_strategy, min_value, max_value, "
    "batch_size, sub_batch_size, status";

// Tables every case may point at; those a case finishes are created from its Target.
const std::string kSetup = test::t_table_sql(100) + R"SQL(
ALTER TABLE t ADD COLUMN label text NOT NULL DEFAULT 'x';
CREATE TABLE victim (id int PRIMARY KEY);
INSERT INTO victim VALUES (1), (2), (3);
CREATE TABLE noindex (id bigint, a int, b bigint);
INSERT INTO noindex (id, a) SELECT g, g FROM generate_series(1, 10) g;
CREATE TABLE nopk (id bigint, a int, b bigint);
CREATE INDEX ON nopk (id);
INSERT INTO nopk (id, a) SELECT g, g FROM generate_series(1, 10) g;
CREATE VIEW v AS SELECT * FROM t;
CREATE SEQUENCE s;
CREATE TABLE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (id bigint PRIMARY KEY, a int, b bigint);
INSERT INTO aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (id, a) VALUES (1, 1);
CREATE SCHEMA "Odd Schema";
CREATE TABLE long_column (id bigint PRIMARY KEY, a int, b bigint);
ALTER TABLE long_column RENAME COLUMN id TO ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc;
INSERT INTO long_column VALUES (1, 1);
CREATE TABLE seq_target (id bigint PRIMARY KEY, b bigint);
CREATE INDEX ON seq_target (id) WHERE b IS NULL;
INSERT INTO seq_target (id) SELECT g FROM generate_series(1, 10) g;
CREATE TABLE path_target (id bigint PRIMARY KEY, a int, b bigint);
CREATE TABLE no_partial (id bigint PRIMARY KEY, b bigint);
INSERT INTO no_partial (id) SELECT g FROM generate_series(1, 10) g;
)SQL";

const std::string kCopy = R"('copy_column', '{"from": "a", "to": "b"}', NULL)";

std::string copy_row(const std::string& table, const std::string& column, const std::string& bounds) {
  return table + ", " + column + ", " + kCopy + ", " + bounds;
}

std::vector<RowCase> row_cases() {
  const std::string ok = "1, 100, 10, 0, 1";
  return {
      // The schema itself refuses these: nothing is queued.
      {"status 9", copy_row("'public.t'", "'id'", "1, 100, 10, 0, 9"), Ends::rejected,
       "violates check constraint \"batched_background_migrations_status_check\""},
      {"batch_size NULL", copy_row("'public.t'", "'id'", "1, 100, NULL, 0, 1"), Ends::rejected,
       "null value in column \"batch_size\""},
      {"max_value NULL", copy_row("'public.t'", "'id'", "1, NULL, 10, 0, 1"), Ends::rejected,
       "null value in column \"max_value\""},
      {"table_name NULL", copy_row("NULL", "'id'", ok), Ends::rejected, "null value in column \"table_name\""},
      {"job_arguments NULL", "'public.t', 'id', 'copy_column', NULL, NULL, " + ok, Ends::rejected,
       "null value in column \"job_arguments\""},
      {"batch_size beyond int", copy_row("'public.t'", "'id'", "1, 100, 3000000000, 0, 1"), Ends::rejected,
       "integer out of range"},
      // Status numbers outside the state machine (the check constraint dropped): left alone.
      {"status 7", copy_row("'public.t'", "'id'", "1, 100, 10, 0, 7"), Ends::ignored, "7"},
      {"status -1", copy_row("'public.t'", "'id'", "1, 100, 10, 0, -1"), Ends::ignored, "-1"},
      {"paused row with a missing table", copy_row("'public.nope'", "'id'", "1, 100, 10, 0, 0"), Ends::ignored, "0"},
      {"running row with a missing table", copy_row("'public.nope'", "'id'", "1, 100, 10, 0, 4"), Ends::failed, "1"},
      // Bounds and sizes.
      {"min_value > max_value", copy_row("'public.t'", "'id'", "50, 10, 10, 0, 1"), Ends::failed, "6"},
      {"batch_size 0", copy_row("'public.t'", "'id'", "1, 100, 0, 0, 1"), Ends::failed, "9"},
      {"batch_size -5", copy_row("'public.t'", "'id'", "1, 100, -5, 0, 1"), Ends::failed, "9"},
      {"sub_batch_size -1", copy_row("'public.t'", "'id'", "1, 100, 10, -1, 1"), Ends::failed, "9"},
      {"batch_size 2147483647", copy_row("'public.huge_batch'", "'id'", "1, 100, 2147483647, 0, 1"),
       Ends::finished, "", Target{"huge_batch"}},
      {"bounds over the whole bigint range",
       copy_row("'public.t'", "'id'", "-9223372036854775808, 9223372036854775807, 30, 0, 1"), Ends::failed, "6"},
      {"bounds spanning 2^63 - 1 keys",
       copy_row("'public.wide_range'", "'id'", "-4611686018427387904, 4611686018427387902, 30, 0, 1"),
       Ends::finished, "", Target{"wide_range"}},
      {"bounds inside the table", copy_row("'public.part'", "'id'", "20, 40, 7, 0, 1"), Ends::finished, "",
       Target{"part", 20, 40}},
      // Table names.
      {"table with quote and semicolon", copy_row("'public.t''; DROP TABLE victim; --'", "'id'", ok), Ends::failed,
       "1"},
      {"unknown schema", copy_row("'nosuchschema.t'", "'id'", ok), Ends::failed, "1"},
      {"three-part name", copy_row("'a.b.c'", "'id'", ok), Ends::failed, "1"},
      {"empty schema", copy_row("'.t'", "'id'", ok), Ends::failed, "1"},
      {"empty table name", copy_row("''", "'id'", ok), Ends::failed, "1"},
      {"70-character name whose 63-character prefix exists", copy_row("'public.' || repeat('a', 70)", "'id'", ok),
       Ends::failed, "1"},
      {"a view", copy_row("'public.v'", "'id'", ok), Ends::failed, "1"},
      {"a sequence", copy_row("'public.s'", "'id'", ok), Ends::failed, "1"},
      {"quoted identifier syntax", copy_row("'public.\"t\"'", "'id'", ok), Ends::failed, "1"},
      {"unicode name that does not exist", copy_row("'public.tä'", "'id'", ok), Ends::failed, "1"},
      {"schema-less name", copy_row("'plain'", "'id'", ok), Ends::finished, "", Target{"plain"}},
      {"table named like an injection", copy_row("'public.x; DROP TABLE victim; --'", "'id'", ok), Ends::finished,
       "", Target{"\"x; DROP TABLE victim; --\""}},
      {"unicode table and key", "'public.données', 'clé', 'copy_column', '{\"from\": \"a\", \"to\": \"b\"}', NULL, " + ok,
       Ends::finished, "", Target{"\"données\"", 1, 100, "\"clé\""}},
      {"schema with a space and upper case", copy_row("'Odd Schema.T'", "'id'", ok), Ends::finished, "",
       Target{"\"Odd Schema\".\"T\""}},
      {"quotes in every column name",
       "'public.we\"ird', 'i\"d', 'copy_column', '{\"from\": \"fr''om\", \"to\": \"t;o\"}', NULL, " + ok,
       Ends::finished, "", Target{"\"we\"\"ird\"", 1, 100, "\"i\"\"d\"", "\"fr'om\"", "\"t;o\""}},
      // Columns.
      {"column missing", copy_row("'public.t'", "'nope'", ok), Ends::failed, "2"},
      {"70-character column whose 63-character prefix exists", copy_row("'public.long_column'", "repeat('c', 70)", ok),
       Ends::failed, "2"},
      {"text batching column", copy_row("'public.t'", "'label'", ok), Ends::failed, "2"},
      {"system catalog by oid", copy_row("'pg_catalog.pg_class'", "'oid'", ok), Ends::failed, "2"},
      {"copy from a missing column", R"('public.t', 'id', 'copy_column', '{"from": "nope", "to": "b"}', NULL, )" + ok,
       Ends::failed, "2"},
      {"table without the batching index", copy_row("'public.noindex'", "'id'", ok), Ends::held, "missing_index"},
      // Job arguments and work functions.
      {"job_arguments JSON null", "'public.t', 'id', 'copy_column', 'null', NULL, " + ok, Ends::failed, "7"},
      {"job_arguments an array", "'public.t', 'id', 'copy_column', '[\"a\", \"b\"]', NULL, " + ok, Ends::failed,
       "7"},
      {"job_arguments a string", "'public.t', 'id', 'copy_column', '\"a\"', NULL, " + ok, Ends::failed, "7"},
      {"copy_column from a number", R"('public.t', 'id', 'copy_column', '{"from": 1, "to": "b"}', NULL, )" + ok,
       Ends::failed, "7"},
      {"copy_column without to", R"('public.t', 'id', 'copy_column', '{"from": "a"}', NULL, )" + ok, Ends::failed,
       "7"},
      {"copy_column text into bigint", R"('public.t', 'id', 'copy_column', '{"from": "label", "to": "b"}', NULL, )" + ok,
       Ends::failed, "4"},
      {"sequence missing",
       R"('public.seq_target', 'b', 'fill_from_sequence', '{"sequence": "public.nope"}', 'null_keyset', )" + ok,
       Ends::failed, "7"},
      {"sequence argument a number",
       R"('public.seq_target', 'b', 'fill_from_sequence', '{"sequence": 5}', 'null_keyset', )" + ok, Ends::failed,
       "7"},
      {"unknown batching strategy", R"('public.t', 'id', 'copy_column', '{"from": "a", "to": "b"}', 'bogus', )" + ok,
       Ends::failed, "5"},
      {"fill_from_sequence with id keyset", R"('public.t', 'id', 'fill_from_sequence', '{"sequence": "public.s"}', NULL, )" + ok,
       Ends::failed, "5"},
      // Without an integer key the null keyset goes by limit, which still needs the partial index.
      {"null keyset without a primary key", R"('public.nopk', 'b', 'fill_from_sequence', '{"sequence": "public.s"}', 'null_keyset', )" + ok,
       Ends::held, "missing_index"},
      {"null keyset without its partial index",
       R"('public.no_partial', 'b', 'fill_from_sequence', '{"sequence": "public.s"}', 'null_keyset', )" + ok,
       Ends::held, "missing_index"},
      {"unknown work function", "'public.t', 'id', 'no_such_function', '{}', NULL, " + ok, Ends::held,
       "unknown_work_function"},
      // On a table of its own: queue order keeps later migrations of public.t behind the held one above.
      {"work function name with a path", "'public.path_target', 'id', '../../../../etc/passwd', '{}', NULL, " + ok, Ends::held,
       "unknown_work_function"},
  };
}

std::string target_sql(const Target& t) {
  return "CREATE TABLE " + t.table + " (" + t.key + " bigint PRIMARY KEY, " + t.from + " int NOT NULL, " + t.to +
         " bigint); INSERT INTO " + t.table + " SELECT g, g * 10 FROM generate_series(1, 100) g";
}

// Rows whose `to` differs from what the case states: copied inside [lo, hi], NULL outside.
std::string wrong_rows_sql(const Target& t) {
  return "SELECT count(*) FROM " + t.table + " WHERE (" + t.key + " BETWEEN " + std::to_string(t.lo) + " AND " +
         std::to_string(t.hi) + ") <> coalesce(" + t.to + " = " + t.from + ", false) OR " + t.from + " <> " + t.key +
         " * 10";
}

std::string queued_name(std::size_t i) {
  const auto n = std::to_string(i);
  return "2026010100" + std::string(4 - n.size(), '0') + n + "_bad_input";
}

// The state the case names, read back as text: "status/code" or "status/hold_code".
std::string state_of(test::TestDatabase& db, std::int64_t id, Ends ends) {
  const auto column = ends == Ends::held ? "coalesce(hold_code, '-')" : "coalesce(failure_error_code::text, '-')";
  return db.scalar("SELECT status || '/' || " + std::string(column) +
                   " FROM batched_background_migrations WHERE id = " + std::to_string(id));
}

std::string expected_state(const RowCase& c) {
  switch (c.ends) {
    case Ends::ignored: return c.expected + "/-";
    case Ends::failed: return "3/" + c.expected;
    case Ends::held: return "1/" + c.expected;
    default: return "2/-";
  }
}

}  // namespace

BBMD_RELIABILITY_SCENARIO(bad_input_rows, 40)(const Options&, Tally& tally) {
  test::TestDatabase db;
  test::apply_bbmd_schema(db);
  db.exec(kSetup);
  const auto cases = row_cases();
  std::vector<std::string> intended;
  for (const auto& c : cases) {
    if (!c.target) continue;
    db.exec(target_sql(*c.target));
    intended.push_back(db.scalar("SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n "
                                 "ON n.oid = c.relnamespace WHERE c.oid = '" + c.target->table + "'::regclass"));
  }
  const auto before = table_checksums(db);

  std::vector<std::optional<std::int64_t>> ids(cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    if (c.ends != Ends::rejected) continue;
    ++tally.bad_inputs;
    try {
      db.exec("INSERT INTO batched_background_migrations (name, " + std::string(kColumns) + ") VALUES ('" +
              queued_name(i) + "', " + c.values + ")");
      tally.fail(std::string(kGroup) + ": " + c.name + ": expected the insert to be rejected, it was accepted");
    } catch (const std::runtime_error& e) {
      tally.expect(std::string(e.what()).find(c.expected) != std::string::npos,
                   std::string(kGroup) + ": " + c.name + ": expected '" + c.expected + "', got: " + e.what());
    }
  }
  // An operator (or an older schema) may lack the check: bbmd must still leave such rows alone.
  db.exec("ALTER TABLE batched_background_migrations DROP CONSTRAINT batched_background_migrations_status_check");
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (cases[i].ends == Ends::rejected) continue;
    ids[i] = std::stoll(db.scalar("INSERT INTO batched_background_migrations (name, " + std::string(kColumns) +
                                  ") VALUES ('" + queued_name(i) + "', " + cases[i].values + ") RETURNING id"));
  }

  test::ConfigFile cfg(db, {{"database.backgroundmigrations.maxjobretries", "2"}});
  test::BbmdProcess serve({"serve", cfg.path()});
  auto settled = [&] {
    for (std::size_t i = 0; i < cases.size(); ++i) {
      if (ids[i] && state_of(db, *ids[i], cases[i].ends) != expected_state(cases[i])) return false;
    }
    return true;
  };
  const bool in_time = test::poll_until(settled, std::chrono::seconds(60), std::chrono::milliseconds(200));
  if (!in_time) ++tally.hangs;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (!ids[i]) continue;
    ++tally.bad_inputs;
    const auto& c = cases[i];
    const auto label = std::string(kGroup) + ": " + c.name;
    const auto got = state_of(db, *ids[i], c.ends);
    tally.expect(got == expected_state(c), label + ": expected status/code " + expected_state(c) + ", got " + got);
    if (c.target) {
      const auto wrong = db.count(wrong_rows_sql(*c.target));
      tally.expect(wrong == 0, label + ": " + std::to_string(wrong) + " rows differ from the intended change");
    } else if (c.ends != Ends::failed || c.expected != "4") {
      const auto jobs = db.count(
          "SELECT count(*) FROM background_migration_jobs WHERE batched_background_migration_id = " +
          std::to_string(*ids[i]));
      tally.expect(jobs == 0, label + ": expected no jobs, got " + std::to_string(jobs));
    }
  }
  // The status command reads every one of these rows.
  for (const char* format : {"text", "json"}) {
    std::vector<std::string> args = {"background-migrate", "status", "{config}"};
    if (std::string(format) == "json") args.insert(args.begin() + 2, "--json");
    run_command_case(tally, kGroup, {std::string("status as ") + format + " over every bad row", args, 0, {}},
                     cfg.path());
  }
  stop_serve(tally, kGroup, serve, db.config().password);
  expect_unchanged(tally, kGroup, before, table_checksums(db), intended);
}

}  // namespace bbmd::reliability

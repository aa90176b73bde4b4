// Bad input catalogue, schema migration files: `bbmd database migrate lint <dir>` names each bad
// file, and `bbmd database migrate up` stops with exit 1 naming the file, leaves nothing of it
// behind, and never hangs on SQL it cannot split.
#include <filesystem>

#include "reliability/bad_input_support.hpp"

namespace bbmd::reliability {

namespace {

using namespace std::string_literals;

constexpr const char* kGroup = "bad migration files";

struct MigrationFile {
  std::string name;  // relative to the pre-deployment folder
  std::string text;
};

struct FilesCase {
  std::string name;
  std::vector<MigrationFile> files;
  int exit_code;
  std::vector<std::string> says;
};

const std::string kDown = "SELECT 1;\n";

// Checked by lint (no database).
std::vector<FilesCase> lint_cases() {
  return {
      {"name without a timestamp", {{"add_things.up.sql", "SELECT 1;\n"}, {"add_things.down.sql", kDown}}, 1,
       {"add_things.up.sql"}},
      {"impossible date", {{"20261399000000_x.up.sql", "SELECT 1;\n"}, {"20261399000000_x.down.sql", kDown}}, 1,
       {"20261399000000"}},
      {"duplicate timestamp",
       {{"20260101000001_a.up.sql", "SELECT 1;\n"}, {"20260101000001_a.down.sql", kDown},
        {"20260101000001_b.up.sql", "SELECT 1;\n"}, {"20260101000001_b.down.sql", kDown}},
       1, {"20260101000001"}},
      {"missing down file", {{"20260101000002_x.up.sql", "SELECT 1;\n"}}, 1, {"20260101000002_x.down.sql"}},
      {"unknown directive", {{"20260101000003_x.up.sql", "-- bbmd:frobnicate\nSELECT 1;\n"},
                             {"20260101000003_x.down.sql", kDown}},
       1, {"frobnicate"}},
      {"requires-bbm without a name", {{"20260101000004_x.up.sql", "-- bbmd:requires-bbm\nSELECT 1;\n"},
                                       {"20260101000004_x.down.sql", kDown}},
       1, {"requires-bbm"}},
      {"requires-bbm nobody queues",
       {{"20260101000005_x.up.sql", "-- bbmd:requires-bbm 20250101000000_never_queued\nSELECT 1;\n"},
        {"20260101000005_x.down.sql", kDown}},
       1, {"20250101000000_never_queued"}},
      {"unterminated dollar-quoted body", {{"20260101000007_x.up.sql", "SELECT $x$ never closed;\n"},
                                           {"20260101000007_x.down.sql", kDown}},
       1, {"20260101000007_x.up.sql", "unterminated dollar-quoted string at line 1, column 8"}},
      {"binary garbage", {{"20260101000006_x.up.sql", "\x00\xff\xfe-- bbmd:\x01\n"s},
                          {"20260101000006_x.down.sql", kDown}},
       1, {"20260101000006_x.up.sql", "NUL byte at byte 0"}},
  };
}

// Applied by up (a database): each must fail and roll back.
std::vector<FilesCase> up_cases() {
  return {
      {"syntax error", {{"20260201000001_broken.up.sql", "CREATE TABLE made_by_broken (id int);\nSELEC 1;\n"},
                        {"20260201000001_broken.down.sql", kDown}},
       1, {"20260201000001_broken.up.sql", "syntax error"}},
      {"unterminated dollar quote without transaction",
       {{"20260201000002_dollar.up.sql", "-- bbmd:no-transaction\nCREATE TABLE made_by_dollar (id int);\nSELECT $x$ never closed;\n"},
        {"20260201000002_dollar.down.sql", kDown}},
       1, {"20260201000002_dollar", "unterminated dollar-quoted string at line 3, column 8"}},
      {"unterminated string", {{"20260201000003_quote.up.sql", "CREATE TABLE made_by_quote (id int);\nSELECT 'open;\n"},
                               {"20260201000003_quote.down.sql", kDown}},
       1, {"20260201000003_quote.up.sql"}},
      {"unterminated comment without transaction",
       {{"20260201000004_comment.up.sql", "-- bbmd:no-transaction\nCREATE TABLE made_by_comment (id int);\n/* open\n"},
        {"20260201000004_comment.down.sql", kDown}},
       1, {"20260201000004_comment", "unterminated /* comment"}},
      {"required BBM unknown", {{"20260201000005_needs.up.sql", "-- bbmd:requires-bbm 20250101000000_no_such_bbm\nCREATE TABLE made_by_needs (id int);\n"},
                                {"20260201000005_needs.down.sql", kDown}},
       1, {"20250101000000_no_such_bbm"}},
      {"up file is a directory", {{"20260201000006_dir.up.sql/inner", ""}, {"20260201000006_dir.down.sql", kDown}}, 1,
       {"20260201000006_dir.up.sql"}},
  };
}

}  // namespace

BBMD_RELIABILITY_SCENARIO(bad_input_migration_files, 43)(const Options&, Tally& tally) {
  for (const auto& c : lint_cases()) {
    test::TempDir dir;
    for (const auto& f : c.files) dir.write(f.name, f.text);
    run_command_case(tally, kGroup, {"lint: " + c.name, {"database", "migrate", "lint", "{config}"}, c.exit_code, c.says},
                     dir.path().string());
  }
  run_command_case(tally, kGroup, {"lint: folder missing", {"database", "migrate", "lint", "{config}"}, 1, {"nowhere"}},
                   "/nonexistent/nowhere");

  test::TestDatabase db;
  // bbmd's own schema first, from an empty folder, so each case below starts from the same state.
  test::TempDir empty;
  std::filesystem::create_directories(empty.path() / "pre");
  std::filesystem::create_directories(empty.path() / "post");
  test::ConfigFile base(db, {{"database.migrations.pre", "\"" + (empty.path() / "pre").string() + "\""},
                             {"database.migrations.post", "\"" + (empty.path() / "post").string() + "\""}});
  run_command_case(tally, kGroup, {"up: empty folders", {"database", "migrate", "up", "{config}"}, 0, {}}, base.path());
  const auto before = table_checksums(db);
  for (const auto& c : up_cases()) {
    test::TempDir dir;
    std::filesystem::create_directories(dir.path() / "post");
    for (const auto& f : c.files) dir.write("pre/" + f.name, f.text);
    test::ConfigFile cfg(db, {{"database.migrations.pre", "\"" + (dir.path() / "pre").string() + "\""},
                              {"database.migrations.post", "\"" + (dir.path() / "post").string() + "\""}});
    run_command_case(tally, kGroup, {"up: " + c.name, {"database", "migrate", "up", "{config}"}, c.exit_code, c.says},
                     cfg.path());
  }
  // bbmd_schema_migrations included: no bad migration was recorded as applied.
  expect_unchanged(tally, kGroup, before, table_checksums(db), {});
  tally.expect(db.count("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'made_by_%'") == 0,
               std::string(kGroup) + ": a failed migration left its table behind");
}

}  // namespace bbmd::reliability

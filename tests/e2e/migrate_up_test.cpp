// `database migrate up` end to end: pre/post split, dry run, no-transaction migrations, down
// round trip, status and version, through the real binary against a real PostgreSQL.
#include <catch2/catch.hpp>

#include "e2e/migrate_support.hpp"
#include "schema/own_schema.hpp"

using bbmd::e2e::MigrateSetup;

namespace {

using States = std::map<std::string, std::string>;

// bbmd's own schema migrations, all applied, plus `rest`.
States with_own_applied(States rest) {
  for (const auto& m : bbmd::schema::own_migrations()) rest[m.version] = "applied";
  return rest;
}

const std::size_t kOwnCount = bbmd::schema::own_migrations().size();
const std::string kOwn = bbmd::schema::own_migrations().front().version;

}  // namespace

TEST_CASE("SKIP_POST_DEPLOYMENT_MIGRATIONS applies only pre-deployment ones: a later up applies the post ones",
          "[e2e][schema]") {
  MigrateSetup s;
  s.pre("20260201000000_create_items", "CREATE TABLE items (id bigint PRIMARY KEY, legacy text);",
        "DROP TABLE items;");
  s.post("20260201000001_drop_legacy", "ALTER TABLE items DROP COLUMN legacy;",
         "ALTER TABLE items ADD COLUMN legacy text;");

  auto first = s.migrate("up", {}, {{"SKIP_POST_DEPLOYMENT_MIGRATIONS", "true"}});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.find("applied " + std::to_string(kOwnCount + 1) +
                       " pre-deployment migrations and 0 post-deployment migrations; skipped 1 "
                       "post-deployment migration") != std::string::npos);
  CHECK(s.recorded("bbmd_schema_migrations", kOwn) == 1);
  CHECK(s.recorded("bbmd_schema_migrations", "20260201000000_create_items") == 1);
  CHECK(s.db.count("SELECT count(*) FROM bbmd_post_deploy_schema_migrations") == 0);
  CHECK(s.db.count("SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' "
                   "AND column_name = 'legacy'") == 1);
  CHECK(s.states() == with_own_applied({{"20260201000000_create_items", "applied"},
                                         {"20260201000001_drop_legacy", "pending"}}));
  CHECK(s.migrate("status", {"--pending-exit-code"}).exit_code == 1);

  auto second = s.migrate("up");
  INFO(second.out << second.err);
  REQUIRE(second.exit_code == 0);
  CHECK(second.out.find("applied 0 pre-deployment migrations and 1 post-deployment migration") != std::string::npos);
  CHECK(s.recorded("bbmd_post_deploy_schema_migrations", "20260201000001_drop_legacy") == 1);
  CHECK(s.db.count("SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' "
                   "AND column_name = 'legacy'") == 0);
  CHECK(s.states() == with_own_applied({{"20260201000000_create_items", "applied"},
                                         {"20260201000001_drop_legacy", "applied"}}));
  CHECK(s.migrate("status", {"--pending-exit-code"}).exit_code == 0);
  // Every applied migration says when, how long and on which host.
  CHECK(s.db.count("SELECT count(*) FROM bbmd_post_deploy_schema_migrations WHERE applied_at IS NOT NULL "
                   "AND duration_ms IS NOT NULL AND applied_by <> ''") == 1);
  const auto version = s.migrate("version");
  CHECK(version.out == std::string("pre-deployment: 20260201000000_create_items\n"
                                   "post-deployment: 20260201000001_drop_legacy\n"));
}

TEST_CASE("up with --skip-post-deployment and --limit-pre leaves the rest pending", "[e2e][schema]") {
  MigrateSetup s;
  s.pre("20260201000000_a", "CREATE TABLE a (id int);");
  s.pre("20260201000001_b", "CREATE TABLE b (id int);");
  s.post("20260201000002_c", "CREATE TABLE c (id int);");
  // The limit counts bbmd's own migrations too: they are pre-deployment migrations.
  REQUIRE(s.migrate("up", {"--limit-pre", std::to_string(kOwnCount + 1), "--skip-post-deployment"}).exit_code == 0);
  CHECK(s.states() == with_own_applied({{"20260201000000_a", "applied"},
                                        {"20260201000001_b", "pending"},
                                        {"20260201000002_c", "pending"}}));
}

TEST_CASE("up with --dry-run prints the plan and changes nothing", "[e2e][schema]") {
  MigrateSetup s;
  s.pre("20260201000000_create_items", "CREATE TABLE items (id bigint PRIMARY KEY);", "DROP TABLE items;");
  s.post("20260201000001_index_items", "CREATE INDEX items_id_idx ON items (id);", "DROP INDEX items_id_idx;");

  SECTION("on a fresh database: not even the record tables appear") {
    const auto before = s.catalog();
    auto r = s.migrate("up", {"--dry-run"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("plan: " + std::to_string(kOwnCount + 2) + " migrations to apply") != std::string::npos);
    CHECK(s.catalog() == before);
    CHECK(s.db.count("SELECT count(*) FROM pg_class WHERE relname IN ('bbmd_schema_migrations', "
                     "'bbmd_post_deploy_schema_migrations', 'batched_background_migrations')") == 0);
  }
  SECTION("with post-deployment migrations pending") {
    REQUIRE(s.migrate("up", {"--skip-post-deployment"}).exit_code == 0);
    const auto catalog = s.catalog();
    const auto records = s.records();
    auto r = s.migrate("up", {"--dry-run"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("20260201000001_index_items") != std::string::npos);
    CHECK(s.catalog() == catalog);
    CHECK(s.records() == records);
  }
}

TEST_CASE("a no-transaction migration with CREATE INDEX CONCURRENTLY applies", "[e2e][schema]") {
  MigrateSetup s;
  s.pre("20260201000000_create_items", "CREATE TABLE items (id bigint PRIMARY KEY, sku text);", "DROP TABLE items;");
  s.pre("20260201000001_index_sku",
        "-- bbmd:no-transaction\nCREATE INDEX CONCURRENTLY items_sku_idx ON items (sku);\n"
        "CREATE INDEX CONCURRENTLY items_sku_lower_idx ON items (lower(sku));\n",
        "-- bbmd:no-transaction\nDROP INDEX CONCURRENTLY items_sku_idx;\nDROP INDEX CONCURRENTLY items_sku_lower_idx;\n");
  auto r = s.migrate("up");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(s.db.count("SELECT count(*) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                   "WHERE c.relname IN ('items_sku_idx', 'items_sku_lower_idx') AND x.indisvalid") == 2);
  CHECK(s.recorded("bbmd_schema_migrations", "20260201000001_index_sku") == 1);
  REQUIRE(s.migrate("down", {"--limit", "1", "--force"}).exit_code == 0);
  CHECK(s.db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'items_sku%'") == 0);
}

TEST_CASE("down reverses the newest migrations and leaves the catalog as before", "[e2e][schema]") {
  MigrateSetup s;
  s.pre("20260201000000_create_items", "CREATE TABLE items (id bigint PRIMARY KEY, sku text);", "DROP TABLE items;");
  REQUIRE(s.migrate("up").exit_code == 0);
  const auto before = s.catalog();
  const auto records_before = s.records();

  s.pre("20260201000001_add_price", "ALTER TABLE items ADD COLUMN price numeric NOT NULL DEFAULT 0;\n"
        "CREATE INDEX items_price_idx ON items (price);",
        "DROP INDEX items_price_idx;\nALTER TABLE items DROP COLUMN price;");
  s.post("20260201000002_create_audit", "CREATE TABLE audit (id bigint, at timestamptz DEFAULT now());",
         "DROP TABLE audit;");
  REQUIRE(s.migrate("up").exit_code == 0);
  REQUIRE(s.catalog() != before);

  SECTION("without --force and without a 'yes' it reverts nothing") {
    const auto after = s.catalog();
    auto r = s.migrate("down", {"--limit", "2"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("not confirmed") != std::string::npos);
    CHECK(s.catalog() == after);
  }
  SECTION("--force --limit 2: post first, then pre; catalog and records as before") {
    auto r = s.migrate("down", {"--limit", "2", "--force"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("reverted post 20260201000002_create_audit\nreverted pre 20260201000001_add_price") !=
          std::string::npos);
    CHECK(s.catalog() == before);
    CHECK(s.records() == records_before);
  }
  SECTION("a migration this build does not know blocks down") {
    s.db.exec("INSERT INTO bbmd_schema_migrations (id, applied_at, applied_by) VALUES ('20990101000000_future', now(), 'x')");
    const auto after = s.catalog();
    auto r = s.migrate("down", {"--force"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("20990101000000_future") != std::string::npos);
    CHECK(s.catalog() == after);
    CHECK(s.states().at("20990101000000_future") == "unknown");
  }
}

TEST_CASE("new writes a timestamped pair with the directives commented out, into the right folder",
          "[e2e][schema]") {
  MigrateSetup s;
  auto pre = s.migrate("new", {"add_widgets"});
  REQUIRE(pre.exit_code == 0);
  auto post = s.migrate("new", {"drop_gadgets", "--post-deployment"});
  REQUIRE(post.exit_code == 0);
  std::vector<std::string> pre_files, post_files;
  for (const auto& e : std::filesystem::directory_iterator(s.dirs.path() / "pre")) pre_files.push_back(e.path().filename());
  for (const auto& e : std::filesystem::directory_iterator(s.dirs.path() / "post")) post_files.push_back(e.path().filename());
  REQUIRE(pre_files.size() == 2);
  REQUIRE(post_files.size() == 2);
  std::sort(pre_files.begin(), pre_files.end());
  CHECK(pre_files[1].substr(14) == "_add_widgets.up.sql");
  CHECK(pre_files[0].substr(14) == "_add_widgets.down.sql");
  const auto up = bbmd::test::read_text(s.dirs.path() / "pre" / pre_files[1]);
  CHECK(up.find("-- -- bbmd:requires-bbm") != std::string::npos);
  CHECK(up.find("-- -- bbmd:no-transaction") != std::string::npos);
  CHECK(up.find("-- -- bbmd:required-stop") != std::string::npos);
  CHECK(s.migrate("new", {"Bad-Name"}).exit_code == 2);
  // The templates lint clean and apply as they are.
  CHECK(bbmd::test::run_bbmd({"database", "migrate", "lint", s.cfg.path()}).exit_code == 0);
  auto r = s.migrate("up");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(s.migrate("status", {"--pending-exit-code"}).exit_code == 0);
}

// `serve` exports the pending schema migrations per kind, so a release dashboard shows
// post-deployment migrations waiting to run.
#include <catch2/catch.hpp>

#include "e2e/e2e_helpers.hpp"
#include "e2e/migrate_support.hpp"

TEST_CASE("serve exports registry_database_migrations_pending per kind", "[e2e][schema]") {
  bbmd::e2e::MigrateSetup s;
  s.pre("20260201000000_a", "CREATE TABLE a (id int);");
  s.post("20260201000001_b", "CREATE TABLE b (id int);");
  s.post("20260201000002_c", "CREATE TABLE c (id int);");
  REQUIRE(s.migrate("up", {"--skip-post-deployment"}).exit_code == 0);
  auto serve = bbmd::e2e::start_serve(s.cfg);
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port);
  std::string scrape;
  REQUIRE(bbmd::test::poll_until(
      [&] {
        scrape = bbmd::e2e::http_get(*port, "/metrics").body;
        return scrape.find("registry_database_migrations_pending") != std::string::npos;
      },
      std::chrono::seconds(10)));
  CHECK(bbmd::e2e::metric_value(scrape, "registry_database_migrations_pending{migration_type=\"post_deployment\"}") ==
        2.0);
  CHECK(bbmd::e2e::metric_value(scrape, "registry_database_migrations_pending{migration_type=\"pre_deployment\"}") ==
        0.0);
}

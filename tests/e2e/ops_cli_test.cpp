// CLI polish: `background-migrate status` colours only on a terminal; `background-migrate run`
// draws a progress bar on a terminal and plain lines into pipes. The terminal is a pty from script(1).
#include <catch2/catch.hpp>

#include "e2e/e2e_helpers.hpp"
#include "e2e/ops_helpers.hpp"

using bbmd::ops::quote;
using bbmd::test::ConfigFile;
using bbmd::test::TestDatabase;

namespace {

// Runs bbmd with stdout on a pseudo-terminal and returns what it wrote there.
bbmd::ops::ToolResult on_terminal(const std::string& args) {
  bbmd::ops::require_tool("script", "bsdutils");
  return bbmd::ops::run_tool("script -qec " + quote(std::string(BBMD_BINARY) + " " + args) + " /dev/null");
}

}  // namespace

TEST_CASE("status is coloured on a terminal only: run draws a bar on a terminal, lines in a pipe",
          "[e2e][ops][cli]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 300);
  ConfigFile cfg(db);
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  bbmd::e2e::queue_t_migration(db, "20260101000001_touch_a", "touch", 300, 100);

  const auto piped_status = bbmd::test::run_bbmd({"background-migrate", "status", cfg.path()});
  REQUIRE(piped_status.exit_code == 0);
  CHECK(piped_status.out.find("\x1b[") == std::string::npos);
  const auto tty_status = on_terminal("background-migrate status " + quote(cfg.path()));
  INFO(tty_status.output);
  REQUIRE(tty_status.exit_code == 0);
  CHECK(tty_status.output.find("\x1b[36mactive\x1b[0m") != std::string::npos);

  const auto tty_run = on_terminal("background-migrate run " + quote(cfg.path()));
  INFO(tty_run.output);
  REQUIRE(tty_run.exit_code == 0);
  CHECK(tty_run.output.find("\r\x1b[K20260101000001_touch_a [##############################] 100.0%") !=
        std::string::npos);

  bbmd::e2e::queue_t_migration(db, "20260101000002_touch_b", "touch", 300, 100);
  const auto piped_run = bbmd::test::run_bbmd({"background-migrate", "run", cfg.path()});
  INFO(piped_run.out);
  REQUIRE(piped_run.exit_code == 0);
  CHECK(piped_run.out.find('\r') == std::string::npos);
  CHECK(piped_run.out.find("20260101000002_touch_b: 100.0% (3/3 jobs finished, ") != std::string::npos);
  CHECK(piped_run.out.find(" rows/s, ETA ") != std::string::npos);
}

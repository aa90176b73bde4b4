// The status page at "/" in headless Chromium while migrations run: one row per migration, a
// progress value that grows between two loads, and a phone-sized screenshot.
#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>

#include "e2e/e2e_helpers.hpp"
#include "e2e/ops_helpers.hpp"

using namespace std::chrono_literals;
using bbmd::ops::quote;
using bbmd::ops::run_tool;
using bbmd::test::ConfigFile;
using bbmd::test::poll_until;
using bbmd::test::TempDir;
using bbmd::test::TestDatabase;

namespace {

std::string chromium(const TempDir& profile, const std::string& args) {
  return "timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
         "--disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage "
         "--user-data-dir=" + quote(profile.path().string()) + " " + args;
}

// The rendered DOM, as Chromium built it.
std::string dump_dom(const TempDir& profile, int port) {
  const auto r = run_tool(chromium(profile, "--dump-dom http://127.0.0.1:" + std::to_string(port) + "/"));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return r.output;
}

// progress value of the row with this migration id, from the DOM.
double progress_of(const std::string& dom, std::int64_t id) {
  const std::regex row("<tr data-id=\"" + std::to_string(id) + "\">.*?<progress max=\"100\" value=\"([0-9.]+)\"");
  std::smatch m;
  if (!std::regex_search(dom, m, row)) return -1;
  return std::stod(m[1]);
}

std::size_t count_rows(const std::string& dom) {
  std::size_t n = 0;
  for (auto pos = dom.find("<tr data-id="); pos != std::string::npos; pos = dom.find("<tr data-id=", pos + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("status page in headless Chromium shows each migration and its growing progress", "[e2e][ops][statuspage]") {
  bbmd::ops::require_tool("chromium", "chromium");
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 3000);
  ConfigFile cfg(db);
  cfg.dir().write("functions/slow_touch.sql", bbmd::e2e::sleepy_touch_sql("0.3"));
  const auto running = bbmd::e2e::queue_t_migration(db, "20260101000001_slow_touch", "slow_touch", 3000, 100);
  const auto held = bbmd::e2e::queue_t_migration(db, "20260101000002_<held & escaped>", "not_in_this_build", 3000, 100);
  auto serve = bbmd::e2e::start_serve(cfg);
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port.has_value());
  REQUIRE(poll_until([&] { return db.count("SELECT count(*) FROM background_migration_jobs WHERE status = 2") >= 1; },
                     30s));

  TempDir profile;
  const auto first = dump_dom(profile, *port);
  CHECK(first.find("<table id=\"migrations\">") != std::string::npos);
  CHECK(first.find("http-equiv=\"refresh\"") != std::string::npos);
  CHECK(first.find("name=\"viewport\"") != std::string::npos);
  CHECK(count_rows(first) == 2);
  CHECK(first.find("20260101000002_&lt;held &amp; escaped&gt;") != std::string::npos);  // names are escaped
  CHECK(progress_of(first, held) == 0.0);
  const auto before = progress_of(first, running);
  CHECK(before > 0);
  CHECK(before < 100);

  REQUIRE(poll_until([&] { return db.count("SELECT count(*) FROM background_migration_jobs WHERE status = 2") >= 4; },
                     30s));
  const auto second = dump_dom(profile, *port);
  CHECK(count_rows(second) == 2);
  CHECK(progress_of(second, running) > before);

  // A phone-sized screenshot renders (the layout stacks each row into label/value lines there).
  const auto shot = profile.path() / "phone.png";
  const auto r = run_tool(chromium(profile, "--screenshot=" + quote(shot.string()) + " --window-size=390,844 " +
                                                "http://127.0.0.1:" + std::to_string(*port) + "/"));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  REQUIRE(std::filesystem::exists(shot));
  CHECK(std::filesystem::file_size(shot) > 5000);  // a blank page compresses to far less
  const auto png = bbmd::test::read_text(shot);
  CHECK(png.compare(1, 3, "PNG") == 0);
}

// serve gives the SQL parser's pages back after start-up (bbm/work/parser_memory.hpp); the parser
// must still work if anything parses later.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "bbm/work/parser_memory.hpp"
#include "bbm/work/registry.hpp"

namespace {

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

}  // namespace

TEST_CASE("after the parser's memory is given back, work-function files still parse, errors included",
          "[unit][work]") {
  const bbmd::bbm::WorkRegistry before;  // parses the shipped work functions
  bbmd::bbm::release_parser_memory();
  bbmd::bbm::release_parser_memory();  // twice: nothing left to give is no error

  const auto dir = std::filesystem::temp_directory_path() / ("bbmd-parser-memory-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write(dir / "good.sql", "UPDATE {{table}} SET b = a WHERE {{column}} BETWEEN $1 AND $2");
  write(dir / "bad.sql", "UPDATE {{table}} SET b = a WHERE WHERE");
  const auto after = bbmd::bbm::WorkRegistry::with_sql_folder(dir);
  std::filesystem::remove_all(dir);

  CHECK(after.find("good") != nullptr);
  CHECK(after.find("bad") == nullptr);
  REQUIRE(after.problem("bad").has_value());
  CHECK(after.problem("bad")->ends_with(": not valid SQL: syntax error at or near \"WHERE\" at character 34"));
  for (const auto& name : before.names()) CHECK(after.find(name) != nullptr);
}

// Replays what fuzzing found (tests/fuzz/regressions/<target>/) through the entries the libFuzzer
// targets call (tests/fuzz/entries.hpp) and asserts each input's exact outcome; the seed corpora
// must run within every parser's contract too. Here under gcc, so a fix holds in the real build.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "fuzz/entries.hpp"

namespace {

namespace fs = std::filesystem;
const fs::path kFuzzDir = fs::path(BBMD_SOURCE_DIR) / "tests" / "fuzz";

std::string read_input(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The outcome each saved input must give now, by "<target>/<file>". A saved input missing here
// fails the test, so every finding states what its fix does.
const std::map<std::string, std::string> kExpected{
    // yaml-cpp 0.7's LoadAll never returned on a stream starting with ',' (jbeder/yaml-cpp#1040):
    // bbmd hung at startup, allocating without end.
    {"config/leading_comma_never_returned",
     "rejected: config: is empty; expected a YAML mapping of settings (write {} to keep every default)"},
    // log.fields holding bytes that are not UTF-8: `config check`'s display threw from the JSON
    // dump; they now print as U+FFFD, as on log lines.
    {"config/invalid_utf8_in_log_fields_threw",
     "ok: database.password=<redacted> database.backgroundmigrations.sqlfunctions=/fuzz/sql/background "
     "database.migrations.pre=/fuzz/migrations/pre database.migrations.post=/fuzz/migrations/post "
     "log.fields={\"environment\":\"production\",\"service\":\"registr\xEF\xBF\xBD\"}"},
    // A YAML "\0" in a string reached libpq, which reads C strings: the password was cut short.
    {"conninfo/nul_in_password_cut_by_libpq",
     "rejected: config: line 2: database.password: must not contain a NUL byte"},
    // Refused whole, so no statement before it runs (the contract since 2aca5ed). PostgreSQL's
    // parser stops at the first token that cannot start a statement, before the open comment.
    {"migration_sql/unterminated_block_comment", "rejected: syntax error at line 1, column 1"},
    // A 1-byte segment size overflowed the segment number (log id * 2^32 / size): UB. PostgreSQL
    // allows 1 MB to 1 GB, anything else is refused.
    {"wal_segments/size_1_overflows_segment_number",
     "rejected: not a segment name, or a segment size PostgreSQL does not allow"},
};

}  // namespace

TEST_CASE("every input fuzzing found gives its recorded outcome", "[fuzz]") {
  std::size_t replayed = 0;
  for (const auto& dir : fs::directory_iterator(kFuzzDir / "regressions")) {
    const auto target = dir.path().filename().string();
    INFO("target " << target);
    const auto entry = bbmd::fuzz::entries().find(target);
    REQUIRE(entry != bbmd::fuzz::entries().end());
    for (const auto& file : fs::directory_iterator(dir.path())) {
      const auto name = target + "/" + file.path().filename().string();
      INFO(name);
      const auto expected = kExpected.find(name);
      REQUIRE(expected != kExpected.end());
      CHECK(entry->second(read_input(file.path())) == expected->second);
      ++replayed;
    }
  }
  CHECK(replayed == kExpected.size());
}

TEST_CASE("every seed input runs through its entry within the parsers' contracts", "[fuzz]") {
  for (const auto& [target, entry] : bbmd::fuzz::entries()) {
    std::size_t seeds = 0;
    for (const auto& file : fs::directory_iterator(kFuzzDir / "corpus" / target)) {
      INFO(target << "/" << file.path().filename().string());
      CHECK_NOTHROW(entry(read_input(file.path())));
      ++seeds;
    }
    INFO(target);
    CHECK(seeds >= 5);
  }
}

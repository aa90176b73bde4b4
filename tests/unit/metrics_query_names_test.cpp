// metrics::names::kQueryNames lists exactly the round-trip names lib/ uses, so that each one's
// series start at 0: read from the sources, a name added in code but not in the list (its series
// would start only with its first use) or left in the list after the code dropped it fails here.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <iterator>
#include <regex>
#include <set>
#include <string>

#include "metrics/query_names.hpp"
#include "support/process.hpp"

namespace {

const std::filesystem::path kLib = std::filesystem::path(BBMD_SOURCE_DIR) / "lib";

// Source text without // comments (a comment may show a call with a made-up name).
std::string code_of(const std::filesystem::path& file) {
  static const std::regex comment("//[^\n]*");
  return std::regex_replace(bbmd::test::read_text(file), comment, "");
}

// Names in lib/: the literal first argument of every round trip, and every literal shaped like
// one of bbmd's query names (a name chosen in a ternary or handed through a variable), less the
// literals of that shape that name something else.
std::set<std::string> names_in_lib() {
  static const std::regex call(R"re(\b(?:query|pipeline|execute_script)\(\s*"([a-z][a-z0-9_]*)")re");
  static const std::regex shaped(R"re("((?:bbm|schema|throttle|admin)_[a-z0-9_]*)")re");
  const std::set<std::string> not_queries{"bbm_id", "bbm_name", "bbm_status", "bbm_names", "schema_migrations",
                                          "bbm_work_"};
  std::set<std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(kLib)) {
    const auto ext = entry.path().extension();
    if (ext != ".cpp" && ext != ".hpp") continue;
    if (entry.path().filename() == "query_names.hpp") continue;
    const auto code = code_of(entry.path());
    for (const auto* re : {&call, &shaped}) {
      for (std::sregex_iterator it(code.begin(), code.end(), *re), end; it != end; ++it) {
        if (!not_queries.contains((*it)[1].str())) out.insert((*it)[1].str());
      }
    }
  }
  return out;
}

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += n + " ";
  return out;
}

}  // namespace

TEST_CASE("kQueryNames lists every round-trip name lib/ uses, and no other", "[metrics]") {
  const auto used = names_in_lib();
  REQUIRE(used.size() > 50);
  const std::set<std::string> declared(bbmd::metrics::names::kQueryNames.begin(),
                                       bbmd::metrics::names::kQueryNames.end());
  CHECK(declared.size() == bbmd::metrics::names::kQueryNames.size());  // no name twice
  std::set<std::string> undeclared, unused;
  std::set_difference(used.begin(), used.end(), declared.begin(), declared.end(),
                      std::inserter(undeclared, undeclared.end()));
  std::set_difference(declared.begin(), declared.end(), used.begin(), used.end(),
                      std::inserter(unused, unused.end()));
  INFO("used in lib/ but missing from lib/metrics/query_names.hpp: " << joined(undeclared));
  INFO("in lib/metrics/query_names.hpp but no longer used: " << joined(unused));
  CHECK(undeclared.empty());
  CHECK(unused.empty());
}

// Prepared statement names: parsed once, retired after kReplanAfterUses uses, bounded.
#include <catch2/catch.hpp>

#include <set>
#include <vector>
#include <string>

#include "db/statement_cache.hpp"

using bbmd::db::StatementCache;

namespace {

// Uses `sql` n times, the last name it ran under being `last`; returns the names it was parsed
// under (a Parse exactly when the name changes).
std::vector<std::string> parsed_names(StatementCache& cache, const std::string& sql, std::uint32_t n,
                                      std::string last = "") {
  std::vector<std::string> names;
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto use = cache.use(sql);
    REQUIRE(use.has_value());
    CHECK(use->parse == (use->name != last));
    if (use->parse) names.push_back(use->name);
    last = use->name;
  }
  return names;
}

}  // namespace

TEST_CASE("a statement is parsed on its first use and runs under the same name after", "[db][statement_cache]") {
  StatementCache cache;
  const auto first = cache.use("SELECT $1");
  REQUIRE(first.has_value());
  CHECK(first->parse);
  const auto second = cache.use("SELECT $1");
  REQUIRE(second.has_value());
  CHECK_FALSE(second->parse);
  CHECK(second->name == first->name);
  const auto other = cache.use("SELECT $1, $2");
  REQUIRE(other.has_value());
  CHECK(other->parse);
  CHECK(other->name != first->name);
  CHECK(cache.take_retired().empty());
}

TEST_CASE("after kReplanAfterUses uses a statement is prepared afresh and its old name retired once",
          "[db][statement_cache]") {
  StatementCache cache;
  const auto names = parsed_names(cache, "SELECT $1", StatementCache::kReplanAfterUses);
  REQUIRE(names.size() == 1);
  CHECK(cache.take_retired().empty());

  const auto next = cache.use("SELECT $1");
  REQUIRE(next.has_value());
  CHECK(next->parse);
  CHECK(next->name != names.front());
  CHECK(cache.take_retired() == std::vector<std::string>{names.front()});
  CHECK(cache.take_retired().empty());

  // The new name lasts as many uses again.
  const auto more = parsed_names(cache, "SELECT $1", StatementCache::kReplanAfterUses - 1, next->name);
  CHECK(more.empty());
  CHECK(cache.take_retired().empty());
}

TEST_CASE("a forgotten statement is parsed again under a new name, with nothing to deallocate",
          "[db][statement_cache]") {
  StatementCache cache;
  const auto first = cache.use("SELECT $1");
  REQUIRE(first.has_value());
  cache.forget("SELECT $1");
  const auto again = cache.use("SELECT $1");
  REQUIRE(again.has_value());
  CHECK(again->parse);
  CHECK(again->name != first->name);
  CHECK(cache.take_retired().empty());
}

TEST_CASE("the cache holds at most kCapacity statements and the rest run unnamed", "[db][statement_cache]") {
  StatementCache cache;
  std::set<std::string> names;
  for (std::size_t i = 0; i < StatementCache::kCapacity; ++i) {
    const auto use = cache.use("SELECT " + std::to_string(i) + ", $1");
    REQUIRE(use.has_value());
    names.insert(use->name);
  }
  CHECK(names.size() == StatementCache::kCapacity);
  CHECK_FALSE(cache.use("SELECT 'one more', $1").has_value());
  const auto held = cache.use("SELECT 0, $1");
  REQUIRE(held.has_value());
  CHECK_FALSE(held->parse);
}

TEST_CASE("a name handed back with retire() is offered again", "[db][statement_cache]") {
  StatementCache cache;
  cache.retire("bbmd_7");
  CHECK(cache.take_retired() == std::vector<std::string>{"bbmd_7"});
  CHECK(cache.take_retired().empty());
}

TEST_CASE("names carry the cache's prefix, so two connections never share one", "[db][statement_cache]") {
  StatementCache first("bbmd_00000000000000a1_");
  StatementCache second("bbmd_00000000000000b2_");
  const auto a = first.use("SELECT $1");
  const auto b = second.use("SELECT $1");
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(a->name == "bbmd_00000000000000a1_0");
  CHECK(b->name == "bbmd_00000000000000b2_0");
}

// The verb table: every registered verb reaches its own handler and no other, positionals resolve
// by each verb's shape, and help names them. Handlers are replaced by recorders, so nothing here
// loads a config or connects.
#include <catch2/catch.hpp>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "cli/verbs.hpp"
#include "support/fake_env.hpp"

namespace cli = bbmd::cli;

namespace {

// Output written to std::cout and std::cerr while `fn` runs.
struct Captured {
  int code = -1;
  std::string out;
  std::string err;
};

template <typename Fn>
Captured capture(Fn fn) {
  std::ostringstream out;
  std::ostringstream err;
  auto* old_out = std::cout.rdbuf(out.rdbuf());
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  Captured c;
  try {
    c.code = fn();
  } catch (...) {
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    throw;
  }
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  c.out = out.str();
  c.err = err.str();
  return c;
}

// The real table with every handler replaced by one that records which verb ran and with what.
struct Recording {
  std::vector<cli::Verb> table = cli::verbs();
  std::vector<std::size_t> ran;
  cli::Invocation last;
  std::map<std::string, std::string> env;  // the process environment the dispatcher sees

  Recording() {
    for (std::size_t i = 0; i < table.size(); ++i) {
      table[i].run = [this, i](const cli::Invocation& in) {
        ran.push_back(i);
        last = in;
        return 0;
      };
    }
  }

  Captured run(const std::vector<std::string>& args) {
    std::vector<const char*> argv{"bbmd"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return capture([&] {
      return cli::dispatch(cli::groups(), table, static_cast<int>(argv.size()), argv.data(), bbmd::test::fake_env(env));
    });
  }
};

// A command line every verb of this shape accepts.
std::vector<std::string> sample_positionals(cli::Positionals p) {
  switch (p) {
    case cli::Positionals::none: return {};
    case cli::Positionals::config: return {"c.yml"};
    case cli::Positionals::name_config: return {"m1", "c.yml"};
    case cli::Positionals::word_config: return {"w1", "c.yml"};
    case cli::Positionals::paths_or_config: return {"d1", "d2"};
  }
  return {};
}

std::string words_of(const cli::Verb& v) {
  std::string out;
  for (const auto& w : v.words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::vector<std::string> with_required_flags(const cli::Verb& v, std::vector<std::string> args) {
  if (words_of(v) == "database migrate mark-applied") args.insert(args.begin(), {"--reason", "r"});
  return args;
}

}  // namespace

TEST_CASE("every registered verb reaches its own handler and no other", "[cli]") {
  Recording rec;
  REQUIRE(rec.table.size() >= 14);
  for (std::size_t i = 0; i < rec.table.size(); ++i) {
    const auto& verb = rec.table[i];
    INFO(words_of(verb));
    auto args = verb.words;
    const auto pos = with_required_flags(verb, sample_positionals(verb.positionals));
    args.insert(args.end(), pos.begin(), pos.end());
    rec.ran.clear();
    const auto r = rec.run(args);
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(rec.ran == std::vector<std::size_t>{i});
  }
}

TEST_CASE("verb words are unique and each verb has a handler, help and an example", "[cli]") {
  std::set<std::string> seen;
  for (const auto& verb : cli::verbs()) {
    INFO(words_of(verb));
    CHECK(seen.insert(words_of(verb)).second);
    CHECK(verb.run);
    CHECK_FALSE(verb.help.empty());
    CHECK(verb.example.rfind("bbmd " + words_of(verb), 0) == 0);
  }
}

TEST_CASE("a verb without a handler is refused, never run as another verb", "[cli]") {
  Recording rec;
  for (auto& verb : rec.table) {
    if (words_of(verb) == "database migrate up") verb.run = nullptr;
  }
  CHECK_THROWS_WITH(rec.run({"database", "migrate", "up", "c.yml"}),
                    Catch::Contains("'database migrate up' has no handler"));
  CHECK(rec.ran.empty());
}

TEST_CASE("positionals resolve by the verb's shape", "[cli]") {
  Recording rec;
  SECTION("[name] <config>: one argument is the config") {
    CHECK(rec.run({"background-migrate", "pause", "c.yml"}).code == 0);
    CHECK(rec.last.config == "c.yml");
    CHECK(rec.last.word.empty());
    CHECK(rec.run({"background-migrate", "resume", "m1", "c.yml"}).code == 0);
    CHECK(rec.last.config == "c.yml");
    CHECK(rec.last.word == "m1");
  }
  SECTION("<version> <config>: both are needed") {
    CHECK(rec.run({"database", "migrate", "retry", "20260101000000", "c.yml"}).code == 0);
    CHECK(rec.last.word == "20260101000000");
    CHECK(rec.last.config == "c.yml");
    rec.ran.clear();
    const auto r = rec.run({"database", "migrate", "retry", "c.yml"});
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("database migrate retry: expected <version> <config>"));
    CHECK_THAT(r.err, Catch::Contains("Usage: bbmd database migrate retry [OPTIONS] <version> <config>"));
    CHECK(rec.ran.empty());
  }
  SECTION("too many arguments name the verb's positionals") {
    const auto r = rec.run({"background-migrate", "pause", "a", "b", "c.yml"});
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("c.yml"));
    CHECK_THAT(r.err, Catch::Contains("Usage: bbmd background-migrate pause [OPTIONS] [name] <config>"));
    CHECK(rec.ran.empty());
  }
  SECTION("a missing config names it") {
    const auto r = rec.run({"background-migrate", "status"});
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("background-migrate status: expected <config>"));
    CHECK(rec.ran.empty());
  }
  SECTION("lint takes folders") {
    CHECK(rec.run({"database", "migrate", "lint", "pre", "post"}).code == 0);
    CHECK(rec.last.paths == std::vector<std::string>{"pre", "post"});
  }
}

TEST_CASE("help shows each verb's real positionals and its example", "[cli]") {
  Recording rec;
  for (const auto& verb : rec.table) {
    INFO(words_of(verb));
    auto args = verb.words;
    args.push_back("--help");
    const auto r = rec.run(args);
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("Usage: bbmd " + words_of(verb) + " [OPTIONS]" +
                                      (cli::positionals_usage(verb).empty() ? "" : " " + cli::positionals_usage(verb))));
    CHECK_THAT(r.out, Catch::Contains("Example:\n  " + verb.example));
    CHECK_THAT(r.out, !Catch::Contains("args"));
  }
  CHECK(rec.ran.empty());
}

TEST_CASE("REGISTRY_CONFIGURATION_PATH names the config when no argument does", "[cli][registry]") {
  Recording rec;
  rec.env["REGISTRY_CONFIGURATION_PATH"] = "/etc/docker/registry/config.yml";
  for (std::size_t i = 0; i < rec.table.size(); ++i) {
    const auto& verb = rec.table[i];
    if (verb.positionals == cli::Positionals::none) continue;
    INFO(words_of(verb));
    auto args = verb.words;
    const auto flags = with_required_flags(verb, {});
    args.insert(args.end(), flags.begin(), flags.end());
    if (verb.positionals == cli::Positionals::word_config) args.push_back("w1");
    rec.ran.clear();
    const auto r = rec.run(args);
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(rec.ran == std::vector<std::size_t>{i});
    if (verb.positionals == cli::Positionals::paths_or_config) {
      CHECK(rec.last.paths == std::vector<std::string>{"/etc/docker/registry/config.yml"});
    } else {
      CHECK(rec.last.config == "/etc/docker/registry/config.yml");
    }
    if (verb.positionals == cli::Positionals::word_config) CHECK(rec.last.word == "w1");
  }
  // An argument still wins; with [name] <config>, one argument is the config, as without the variable.
  CHECK(rec.run({"background-migrate", "pause", "other.yml"}).code == 0);
  CHECK(rec.last.config == "other.yml");
  CHECK(rec.last.word.empty());
  CHECK(rec.run({"background-migrate", "pause", "m1", "other.yml"}).code == 0);
  CHECK(rec.last.word == "m1");
  // Set but empty is not set.
  rec.env["REGISTRY_CONFIGURATION_PATH"] = "";
  rec.ran.clear();
  const auto r = rec.run({"serve"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("serve: expected <config> (or the config file in REGISTRY_CONFIGURATION_PATH)"));
  CHECK(rec.ran.empty());
}

TEST_CASE("the registry's flags and short forms parse, beside bbmd's long ones", "[cli][registry]") {
  Recording rec;
  SECTION("database migrate up") {
    REQUIRE(rec.run({"database", "migrate", "up", "-d", "-n", "2", "-p", "1", "-s", "c.yml"}).code == 0);
    auto m = rec.last.flags.migrate;
    CHECK(m.dry_run);
    CHECK(m.limit == 2);
    CHECK(m.post_deploy_limit == 1);
    CHECK(m.skip_post);
    REQUIRE(rec.run({"database", "migrate", "up", "--dry-run", "--limit", "3", "--post-deploy-limit", "4",
                     "--skip-post-deployment", "c.yml"})
                .code == 0);
    m = rec.last.flags.migrate;
    CHECK((m.dry_run && m.limit == 3 && m.post_deploy_limit == 4 && m.skip_post));
    REQUIRE(rec.run({"database", "migrate", "up", "--limit-pre", "1", "--limit-post", "0", "c.yml"}).code == 0);
    CHECK(rec.last.flags.migrate.limit_pre == 1);
    CHECK(rec.last.flags.migrate.limit_post == 0);
    CHECK(rec.run({"database", "migrate", "up", "-n", "1", "--limit-post", "1", "c.yml"}).code == 2);
  }
  SECTION("database migrate down") {
    REQUIRE(rec.run({"database", "migrate", "down", "-f", "-d", "-n", "1", "-p", "0", "c.yml"}).code == 0);
    const auto& m = rec.last.flags.migrate;
    CHECK((m.force && m.dry_run && m.limit == 1 && m.post_deploy_limit == 0));
    CHECK(rec.run({"database", "migrate", "down", "-n", "0", "c.yml"}).code == 2);
  }
  SECTION("database migrate status") {
    REQUIRE(rec.run({"database", "migrate", "status", "-s", "-u", "c.yml"}).code == 0);
    CHECK(rec.last.flags.migrate.skip_post);
    CHECK(rec.last.flags.migrate.up_to_date);
    REQUIRE(rec.run({"database", "migrate", "status", "--up-to-date", "c.yml"}).code == 0);
    CHECK(rec.last.flags.migrate.up_to_date);
  }
  SECTION("background-migrate run -r: 1 to 10, absent when not given") {
    REQUIRE(rec.run({"background-migrate", "run", "c.yml"}).code == 0);
    CHECK_FALSE(rec.last.flags.max_job_retry.has_value());
    REQUIRE(rec.run({"background-migrate", "run", "-r", "10", "c.yml"}).code == 0);
    CHECK(rec.last.flags.max_job_retry == 10);
    REQUIRE(rec.run({"background-migrate", "run", "--max-job-retry", "1", "c.yml"}).code == 0);
    CHECK(rec.last.flags.max_job_retry == 1);
    rec.ran.clear();
    for (const char* bad : {"0", "11", "-1", "two"}) {
      INFO(bad);
      CHECK(rec.run({"background-migrate", "run", "-r", bad, "c.yml"}).code == 2);
    }
    CHECK(rec.ran.empty());
  }
  SECTION("--version and -v print the version and run no verb") {
    for (const char* flag : {"--version", "-v"}) {
      const auto r = rec.run({flag});
      CHECK(r.code == 0);
      CHECK_THAT(r.out, Catch::StartsWith("bbmd "));
    }
    CHECK(rec.ran.empty());
  }
}

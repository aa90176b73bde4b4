// Bad input catalogue, config files: each bad config makes `bbmd background-migrate status` exit
// 2 with a message naming the key (or the file's problem), never printing the password.
#include <optional>

#include "reliability/bad_input_support.hpp"

namespace bbmd::reliability {

namespace {

using namespace std::string_literals;

constexpr const char* kGroup = "bad config";

struct ConfigCase {
  std::string name;
  // Either dotted keys merged over a valid config, or (when `raw` is set) the file's whole text.
  test::ConfigOverrides keys;
  std::optional<std::string> raw;
  std::vector<std::string> says;
  std::map<std::string, std::string> env{};
};

std::vector<ConfigCase> config_cases() {
  const std::string secret = kPlantedSecret;
  return {
      {"unknown key", {{"database.hots", "\"db\""}}, {}, {"database.hots"}},
      {"unknown section", {{"databse.host", "\"db\""}}, {}, {"databse"}},
      {"port not a number", {{"database.port", "\"abc\""}}, {}, {"database.port"}},
      {"port beyond 65535", {{"database.port", "70000"}}, {}, {"database.port"}},
      {"duration without unit", {{"database.backgroundmigrations.jobinterval", "5"}}, {},
       {"database.backgroundmigrations.jobinterval"}},
      {"duration with unknown unit", {{"database.backgroundmigrations.leaseduration", "5x"}}, {},
       {"database.backgroundmigrations.leaseduration"}},
      {"negative duration", {{"database.backgroundmigrations.statementtimeout", "-1s"}}, {},
       {"database.backgroundmigrations.statementtimeout"}},
      {"integer beyond 64 bits", {{"database.backgroundmigrations.maxjobretries", "99999999999999999999"}}, {},
       {"database.backgroundmigrations.maxjobretries"}},
      {"zero workers", {{"database.backgroundmigrations.workers", "0"}}, {}, {"database.backgroundmigrations.workers"}},
      {"pool smaller than workers", {{"database.backgroundmigrations.workers", "8"}, {"database.pool.maxopen", "2"}},
       {}, {"database.pool.maxopen"}},
      {"boolean as a word", {{"database.backgroundmigrations.enabled", "\"sometimes\""}}, {},
       {"database.backgroundmigrations.enabled"}},
      {"unknown log level", {{"log.level", "\"loud\""}}, {}, {"log.level"}},
      {"unknown sslmode", {{"database.sslmode", "\"maybe\""}}, {}, {"database.sslmode"}},
      {"listen address garbage", {{"http.debug.addr", "\"not an address\""}}, {}, {"http.debug.addr"}},
      {"password a list holding the secret", {{"database.password", "[\"" + secret + "\"]"}}, {},
       {"database.password"}},
      {"section a scalar", {{"database", "\"" + secret + "\""}}, {}, {"database"}},
      {"invalid YAML", {}, "database:\n  host: [unclosed\n", {"invalid YAML"}},
      {"empty file", {}, "", {"is empty"}},
      {"top level a list", {}, "- database\n- log\n", {"must be a mapping"}},
      {"two documents", {}, "log:\n  level: info\n---\nlog:\n  level: debug\n", {"YAML documents"}},
      {"binary garbage", {}, "\x00\xff\xfe\x01\x02 \x7f" "database: {"s, {"config"}},
      {"nesting 100000 deep", {}, std::string(100000, '[') , {"config"}},
      {"environment override not a number", {}, {}, {"REGISTRY_DATABASE_PORT"},
       {{"REGISTRY_DATABASE_PORT", "abc"}}},
      {"environment override with a bad duration", {}, {}, {"REGISTRY_DATABASE_CONNECTTIMEOUT"},
       {{"REGISTRY_DATABASE_CONNECTTIMEOUT", "soon"}}},
  };
}

}  // namespace

BBMD_RELIABILITY_SCENARIO(bad_input_config, 41)(const Options&, Tally& tally) {
  test::TempDir dir;
  run_command_case(tally, kGroup, {"missing file", {"background-migrate", "status", "{config}"}, 2, {"cannot open"}},
                   (dir.path() / "absent.yml").string());
  run_command_case(tally, kGroup, {"a directory", {"background-migrate", "status", "{config}"}, 2, {"cannot"}},
                   dir.path().string());
  const auto cases = config_cases();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const auto text = c.raw.value_or(test::render_yaml(unreachable_config(c.keys)));
    const auto path = dir.write("case" + std::to_string(i) + ".yml", text);
    run_command_case(tally, kGroup, {c.name, {"background-migrate", "status", "{config}"}, 2, c.says, c.env},
                     path.string());
  }
}

}  // namespace bbmd::reliability

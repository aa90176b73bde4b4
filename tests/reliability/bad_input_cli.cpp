// Bad input catalogue, command-line arguments: each exits 2 with a message naming the flag or
// argument at fault, before touching the database.
#include "reliability/bad_input_support.hpp"

namespace bbmd::reliability {

namespace {

constexpr const char* kGroup = "bad cli";

std::vector<CommandCase> cli_cases() {
  return {
      {"no arguments", {}, 2, {"A subcommand is required"}},
      {"unknown command", {"frobnicate", "{config}"}, 2, {"unknown command or argument 'frobnicate'"}},
      {"unknown subcommand", {"background-migrate", "explode", "{config}"}, 2, {"unknown command or argument 'explode'"}},
      {"config missing", {"background-migrate", "status"}, 2, {"config"}},
      {"unknown flag", {"background-migrate", "status", "--frobnicate", "{config}"}, 2, {"--frobnicate"}},
      {"negative retry count", {"background-migrate", "run", "--max-job-retry", "-1", "{config}"}, 2,
       {"--max-job-retry"}},
      {"retry count not a number", {"background-migrate", "run", "--max-job-retry", "many", "{config}"}, 2,
       {"--max-job-retry"}},
      {"retry count beyond int", {"background-migrate", "run", "--max-job-retry", "99999999999", "{config}"}, 2,
       {"--max-job-retry"}},
      {"retry count without value", {"background-migrate", "run", "{config}", "--max-job-retry"}, 2,
       {"--max-job-retry"}},
      {"negative pre limit", {"database", "migrate", "up", "--limit-pre", "-5", "{config}"}, 2, {"--limit-pre"}},
      {"zero down limit", {"database", "migrate", "down", "--limit", "0", "{config}"}, 2, {"--limit"}},
      {"mark-applied without reason", {"database", "migrate", "mark-applied", "20260101000000", "{config}"}, 2,
       {"--reason"}},
      {"too many names for pause", {"background-migrate", "pause", "a", "b", "{config}"}, 2, {"[name] <config>"}},
      {"retry without version", {"database", "migrate", "retry", "{config}"}, 2, {"<version> <config>"}},
      {"version with an argument", {"version", "extra"}, 2, {"extra"}},
      {"flag with unicode and quotes", {"background-migrate", "status", "--naïve='\";", "{config}"}, 2, {"--na"}},
      {"config path of 100000 characters", {"background-migrate", "status", std::string(100000, 'x')}, 2,
       {"cannot open"}},
  };
}

}  // namespace

BBMD_RELIABILITY_SCENARIO(bad_input_cli, 42)(const Options&, Tally& tally) {
  test::TempDir dir;
  const auto config = dir.write("config.yml", test::render_yaml(unreachable_config()));
  for (const auto& c : cli_cases()) run_command_case(tally, kGroup, c, config.string());
}

}  // namespace bbmd::reliability

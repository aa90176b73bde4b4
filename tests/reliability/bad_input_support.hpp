#pragma once
// Shared by the bad input catalogue (bad_input_*.cpp): running bbmd on one bad input and
// counting what it did (a crash, a hang, or an outcome other than the one the case states),
// and table checksums that show nothing changed outside the intended rows.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "reliability/suite.hpp"
#include "support/bbm_fixture.hpp"
#include "support/process.hpp"
#include "support/test_db.hpp"

namespace bbmd::reliability {

// A password planted in every config of the catalogue: no output may ever show it.
inline constexpr const char* kPlantedSecret = "pl4nted-S3CRET-never-printed";

// A valid config (password kPlantedSecret) for a server nobody listens on, plus `overrides`: a case
// that gets past loading by mistake fails to connect (exit 1) instead of passing.
test::ConfigOverrides unreachable_config(const test::ConfigOverrides& overrides = {});

// A one-shot bbmd command and the outcome it must have.
struct CommandCase {
  std::string name;
  std::vector<std::string> args;  // "{config}" is replaced by the group's config file
  int exit_code;
  std::vector<std::string> says;  // each must appear in stdout or stderr
  std::map<std::string, std::string> env{};
};

// Runs one case of `group`, counting it in bad_inputs; a signal death or sanitizer report counts
// as a crash, running past `deadline` as a hang; any other difference is a failure.
void run_command_case(Tally& tally, const std::string& group, const CommandCase& c, const std::string& config,
                      std::chrono::milliseconds deadline = std::chrono::seconds(20));

// True when bbmd's stderr holds a sanitizer's report.
bool sanitizer_report(const std::string& err);

// SIGTERMs a serve process and checks it exits 0 within 15 s (else a hang) without a signal or a
// sanitizer report (else a crash), and that its log never showed `secret`.
void stop_serve(Tally& tally, const std::string& group, test::BbmdProcess& serve, const std::string& secret);

// md5 of every row of every table outside bbmd's own and pg_catalog, by qualified name.
std::map<std::string, std::string> table_checksums(test::TestDatabase& db);

// Records a failure for every table whose checksum differs, except `intended` ones.
void expect_unchanged(Tally& tally, const std::string& group, const std::map<std::string, std::string>& before,
                      const std::map<std::string, std::string>& after, const std::vector<std::string>& intended);

}  // namespace bbmd::reliability

// Running bbmd on bad input and classifying the result (see bad_input_support.hpp).
#include "reliability/bad_input_support.hpp"

#include <signal.h>

#include <algorithm>

namespace bbmd::reliability {

namespace {

std::string shown(const std::string& text) {
  constexpr std::size_t kMax = 400;
  return text.size() <= kMax ? text : text.substr(0, kMax) + "...";
}

}  // namespace

test::ConfigOverrides unreachable_config(const test::ConfigOverrides& overrides) {
  test::ConfigOverrides keys = {{"database.host", "\"127.0.0.1\""},
                                {"database.port", "1"},
                                {"database.password", std::string("\"") + kPlantedSecret + "\""},
                                {"database.connecttimeout", "1s"}};
  for (const auto& [k, v] : overrides) keys[k] = v;
  return keys;
}

bool sanitizer_report(const std::string& err) {
  for (const char* marker : {"AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:"}) {
    if (err.find(marker) != std::string::npos) return true;
  }
  return false;
}

void run_command_case(Tally& tally, const std::string& group, const CommandCase& c, const std::string& config,
                      std::chrono::milliseconds deadline) {
  ++tally.bad_inputs;
  std::vector<std::string> args = c.args;
  for (auto& a : args) {
    if (a == "{config}") a = config;
  }
  const auto started = std::chrono::steady_clock::now();
  const auto r = test::run_bbmd(args, deadline, c.env);
  const auto label = group + ": " + c.name;
  if (r.exit_code == -1) {
    const bool timed_out = std::chrono::steady_clock::now() - started >= deadline;
    ++(timed_out ? tally.hangs : tally.crashes);
    tally.fail(label + (timed_out ? ": no exit within the deadline" : ": killed by a signal") + "; stderr: " +
               shown(r.err));
    return;
  }
  if (sanitizer_report(r.err)) {
    ++tally.crashes;
    tally.fail(label + ": sanitizer report: " + shown(r.err));
    return;
  }
  const auto output = r.out + r.err;
  tally.expect(r.exit_code == c.exit_code, label + ": expected exit " + std::to_string(c.exit_code) + ", got " +
                                               std::to_string(r.exit_code) + "; output: " + shown(output));
  for (const auto& needle : c.says) {
    tally.expect(output.find(needle) != std::string::npos,
                 label + ": expected the output to say '" + needle + "', got: " + shown(output));
  }
  tally.expect(output.find(kPlantedSecret) == std::string::npos, label + ": the output shows the password");
}

void stop_serve(Tally& tally, const std::string& group, test::BbmdProcess& serve, const std::string& secret) {
  serve.signal(SIGTERM);
  const auto code = serve.wait_for_exit(std::chrono::seconds(15));
  if (!code) {
    ++tally.hangs;
    tally.fail(group + ": bbmd serve did not exit within 15 s of SIGTERM");
    return;
  }
  const auto err = serve.err();
  if (*code == -1 || sanitizer_report(err)) {
    ++tally.crashes;
    tally.fail(group + ": bbmd serve crashed; stderr: " + shown(err.substr(err.size() > 2000 ? err.size() - 2000 : 0)));
    return;
  }
  tally.expect(*code == 0, group + ": bbmd serve exited " + std::to_string(*code) + " after SIGTERM, expected 0");
  tally.expect(secret.empty() || err.find(secret) == std::string::npos, group + ": bbmd serve logged the password");
}

std::map<std::string, std::string> table_checksums(test::TestDatabase& db) {
  std::map<std::string, std::string> out;
  const auto tables = db.rows(
      "SELECT format('%I.%I', schemaname, tablename) FROM pg_catalog.pg_tables "
      "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') "
      "AND tablename NOT IN ('batched_background_migrations', 'background_migration_jobs') ORDER BY 1");
  for (const auto& row : tables) {
    const auto& table = row[0];
    out[table] = db.scalar("SELECT count(*) || ':' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') "
                           "FROM " + table + " r");
  }
  return out;
}

void expect_unchanged(Tally& tally, const std::string& group, const std::map<std::string, std::string>& before,
                      const std::map<std::string, std::string>& after, const std::vector<std::string>& intended) {
  for (const auto& [table, sum] : before) {
    if (std::find(intended.begin(), intended.end(), table) != intended.end()) continue;
    const auto it = after.find(table);
    if (it == after.end()) {
      tally.fail(group + ": table " + table + " is gone");
    } else {
      tally.expect(it->second == sum, group + ": table " + table + " changed though no migration targets it");
    }
  }
  for (const auto& [table, sum] : after) {
    tally.expect(before.count(table) == 1, group + ": table " + table + " appeared");
  }
}

}  // namespace bbmd::reliability

// `bbmd serve` under systemd: with stderr connected to the journal (JOURNAL_STREAM naming that
// stream, as systemd sets it) each line starts with its level's syslog priority, which journald
// files it under; with JOURNAL_STREAM naming another stream, lines stay plain JSON.
#include <signal.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "e2e/e2e_helpers.hpp"
#include "e2e/ops_helpers.hpp"

using namespace std::chrono_literals;
using bbmd::ops::quote;

namespace {

// `bbmd serve` against a server nobody listens on, so that it logs at every level (info when
// serving, debug when sleeping, warn for the failing checks, error for the failing passes),
// its stderr to `log` and JOURNAL_STREAM set by `journal_stream`, a shell word evaluated in the
// started shell ("$(stat ... /proc/self/fd/2)" names the stream bbmd writes to).
class JournalServe {
 public:
  JournalServe(const std::string& journal_stream, const std::filesystem::path& log)
      : cfg_(unreachable(), {{"log.level", "debug"}}) {
    const auto started = bbmd::ops::run_tool(
        "sh -c 'export JOURNAL_STREAM=\"" + journal_stream + "\"; exec \"$0\" serve \"$1\"' " + quote(BBMD_BINARY) +
        " " + quote(cfg_.path()) + " 2>" + quote(log.string()) + " >/dev/null </dev/null & echo $!");
    REQUIRE(started.exit_code == 0);
    pid_ = std::stoi(started.output);
  }
  ~JournalServe() {
    ::kill(pid_, SIGTERM);
    bbmd::test::poll_until([&] { return ::kill(pid_, 0) != 0; }, 30s);
  }

 private:
  static bbmd::config::Database unreachable() {
    bbmd::config::Database d;
    d.host = "127.0.0.1";
    d.port = bbmd::ops::free_port();
    return d;
  }
  bbmd::test::ConfigFile cfg_;
  int pid_ = -1;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("under systemd each line reaches journald at its level's priority", "[e2e][ops][systemd]") {
  bbmd::test::TempDir dir;
  const auto log = dir.path() / "stderr";
  JournalServe serve("$(stat -L -c %d:%i /proc/self/fd/2)", log);
  const std::map<std::string, std::string> priority{{"debug", "<7>"}, {"info", "<6>"}, {"warn", "<4>"}, {"error", "<3>"}};
  std::set<std::string> seen;
  REQUIRE(bbmd::test::poll_until([&] {
    seen.clear();
    for (const auto& line : lines_of(bbmd::test::read_text(log))) seen.insert(line.substr(0, 3));
    return seen.size() >= priority.size();
  }, 20s));
  const auto text = bbmd::test::read_text(log);
  INFO(text);
  for (const auto& line : lines_of(text)) {
    INFO(line);
    // "<N>" and then the JSON line as always, at the priority its level names.
    const auto json = nlohmann::json::parse(line.substr(3), nullptr, false);
    REQUIRE(json.is_object());
    CHECK(line.substr(0, 3) == priority.at(json["level"].get<std::string>()));
  }
  CHECK(seen == std::set<std::string>{"<7>", "<6>", "<4>", "<3>"});
}

TEST_CASE("with JOURNAL_STREAM naming another stream, lines stay plain JSON", "[e2e][ops][systemd]") {
  bbmd::test::TempDir dir;
  const auto log = dir.path() / "stderr";
  // Inherited from a parent whose stderr was the journal: not bbmd's stderr, so no prefix.
  JournalServe serve("$(stat -L -c %d:%i /dev/null)", log);
  REQUIRE(bbmd::test::poll_until([&] {
    return bbmd::test::read_text(log).find("\"level\":\"error\"") != std::string::npos;
  }, 20s));
  const auto text = bbmd::test::read_text(log);
  INFO(text);
  for (const auto& line : lines_of(text)) {
    INFO(line);
    CHECK(nlohmann::json::parse(line, nullptr, false).is_object());
  }
}

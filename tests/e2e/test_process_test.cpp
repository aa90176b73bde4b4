// The test support's bbmd children (tests/support/process.cpp, Boost.Process): what a test passes
// reaches bbmd, and nothing else of the test does: no descriptor, no change to its environment.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "e2e/e2e_helpers.hpp"
#include "e2e/ops_helpers.hpp"

using namespace std::chrono_literals;

namespace {

// What each open descriptor of `pid` points at ("pipe:[123]", "socket:[456]", a path).
std::set<std::string> open_files(pid_t pid) {
  std::set<std::string> out;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(fd.path(), ec);
    if (!ec) out.insert(target.string());
  }
  return out;
}

}  // namespace

TEST_CASE("a bbmd child inherits none of the test's descriptors and leaves the test's environment alone",
          "[e2e][support]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);  // inheritable: no O_CLOEXEC, as a careless test's socket would be
  const auto ours = std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fds[0])).string();
  bbmd::config::Database nowhere;
  nowhere.host = "127.0.0.1";
  nowhere.port = bbmd::ops::free_port();
  bbmd::test::ConfigFile cfg(nowhere);
  ::unsetenv("BBMD_TEST_ONLY_FOR_THE_CHILD");
  bbmd::test::BbmdProcess serve({"serve", cfg.path()}, {{"BBMD_TEST_ONLY_FOR_THE_CHILD", "1"}});
  REQUIRE(serve.wait_for_log("\"msg\":\"bbmd serving\"", 10s));
  const auto files = open_files(serve.pid());
  INFO("ours: " << ours);
  CHECK(!files.empty());
  CHECK(!files.contains(ours));
  CHECK(std::getenv("BBMD_TEST_ONLY_FOR_THE_CHILD") == nullptr);
  CHECK(bbmd::test::read_text("/proc/" + std::to_string(serve.pid()) + "/environ")
            .find(std::string("BBMD_TEST_ONLY_FOR_THE_CHILD=1") + '\0') != std::string::npos);
  serve.signal(SIGTERM);
  CHECK(serve.wait_for_exit(30s) == 0);
  ::close(fds[0]);
  ::close(fds[1]);
}

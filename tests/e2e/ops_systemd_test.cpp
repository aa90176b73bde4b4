// systemd integration of `bbmd serve`: READY=1, WATCHDOG=1 and STOPPING=1 reach the socket named by
// NOTIFY_SOCKET (as systemd's Type=notify and WatchdogSec= would see them).
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <catch2/catch.hpp>

#include "e2e/e2e_helpers.hpp"

using namespace std::chrono_literals;

namespace {

class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) FAIL("cannot bind " << path);
    timeval tv{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { ::close(fd_); }
  // Reads datagrams until one contains `needle` or `timeout` passes; keeps everything read.
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    return bbmd::test::poll_until([&] {
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) seen_ += std::string(buf, static_cast<std::size_t>(n)) + "\n";
      return seen_.find(needle) != std::string::npos;
    }, timeout, 1ms);
  }
  [[nodiscard]] const std::string& seen() const { return seen_; }
  [[nodiscard]] std::size_t count(const std::string& needle) const {
    std::size_t n = 0;
    for (auto p = seen_.find(needle); p != std::string::npos; p = seen_.find(needle, p + 1)) ++n;
    return n;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::string seen_;
};

}  // namespace

TEST_CASE("serve notifies systemd: READY, WATCHDOG pings and STOPPING", "[e2e][ops][systemd]") {
  bbmd::test::TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::test::ConfigFile cfg(db);
  NotifySocket sock(cfg.dir().path() / "notify.sock");
  // WATCHDOG_PID stays unset: sd_watchdog_enabled() would otherwise compare it with bbmd's pid.
  bbmd::test::BbmdProcess serve({"serve", cfg.path()},
                                {{"NOTIFY_SOCKET", (cfg.dir().path() / "notify.sock").string()},
                                 {"WATCHDOG_USEC", "400000"}});
  INFO(serve.err());
  REQUIRE(sock.wait_for("READY=1", 10s));
  REQUIRE(sock.wait_for("WATCHDOG=1", 2s));
  // Pinged again and again at half the interval: a third ping within a second or so.
  CHECK(bbmd::test::poll_until([&] {
    (void)sock.wait_for("WATCHDOG=1\nWATCHDOG=1\nWATCHDOG=1", std::chrono::milliseconds(50));
    return sock.count("WATCHDOG=1") >= 3;
  }, 3s));
  serve.signal(SIGTERM);
  CHECK(sock.wait_for("STOPPING=1", 10s));
  CHECK(serve.wait_for_exit(30s) == 0);
}

#pragma once
// Helpers for the operations tests: running external tools (kubectl, yamllint, promtool,
// prometheus, chromium, systemd-analyze) that CI installs through deploy/install-deps.sh,
// free ports, and HTTP requests with a method, headers and a body (on the raw test client).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "support/http_client.hpp"

namespace bbmd::ops {

struct ToolResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, capturing both streams.
inline ToolResult run_tool(const std::string& command) {
  ToolResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A missing tool fails the test (never skips it): CI installs every one of them.
inline void require_tool(const std::string& tool, const std::string& package) {
  if (run_tool("command -v " + tool).exit_code != 0) {
    FAIL(tool + " is not installed; install the Debian package " + package + " (deploy/install-deps.sh does)");
  }
}

inline std::filesystem::path source(const std::string& relative) {
  return std::filesystem::path(BBMD_SOURCE_DIR) / relative;
}

inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A loopback port nobody listens on right now.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

using Reply = test::HttpReply;
using test::http_request;

}  // namespace bbmd::ops

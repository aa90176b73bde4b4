#pragma once
// Helpers for the operations tests: running external tools (kubectl, yamllint, promtool,
// prometheus, chromium, systemd-analyze) that CI installs through deploy/install-deps.sh,
// free ports, and HTTP requests with a method, headers and a body.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

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

struct Reply {
  int status = 0;  // 0: no answer
  std::string headers;
  std::string body;
};

// One HTTP/1.1 request with Connection: close; `extra_headers` are whole "Name: value\r\n" lines.
inline Reply http_request(int port, const std::string& method, const std::string& target,
                          const std::string& extra_headers = "", const std::string& body = "") {
  Reply out;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return out;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                        extra_headers;
  if (!body.empty() || method == "POST") request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  for (std::size_t sent = 0; sent < request.size();) {
    const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) raw.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  const auto sp = raw.find(' ');
  const auto head_end = raw.find("\r\n\r\n");
  if (sp == std::string::npos || head_end == std::string::npos) return out;
  out.status = std::atoi(raw.c_str() + sp + 1);
  out.headers = raw.substr(0, head_end);
  out.body = raw.substr(head_end + 4);
  return out;
}

}  // namespace bbmd::ops

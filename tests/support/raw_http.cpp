// POSIX sockets behind the raw HTTP test client.
#include "support/raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace bbmd::test {

RawConnection::RawConnection(int port, std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return;
  }
  fd_ = fd;
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(std::string_view bytes) {
  if (fd_ < 0) return false;
  for (std::size_t sent = 0; sent < bytes.size();) {
    const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string RawConnection::read_to_end() {
  std::string raw;
  if (fd_ < 0) return raw;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, 0)) > 0;) raw.append(buf, static_cast<std::size_t>(n));
  return raw;
}

bool RawConnection::closed_by_peer_within(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[8192];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    // Readable: either an answer (e.g. a 408 or 400) to drain, or end of stream / reset.
    if (::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) <= 0) return true;
  }
}

HttpReply parse_reply(const std::string& raw) {
  HttpReply out;
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 5, "HTTP/") != 0 || head_end == std::string::npos) return out;
  const auto sp = raw.find(' ');
  if (sp == std::string::npos || sp > head_end) return out;
  out.status = std::atoi(raw.c_str() + sp + 1);
  out.headers = raw.substr(0, head_end);
  out.body = raw.substr(head_end + 4);
  return out;
}

HttpReply raw_http(int port, std::string_view bytes, std::chrono::milliseconds timeout) {
  RawConnection conn(port, timeout);
  if (!conn.connected()) return {};
  conn.send(bytes);  // a server that answers early (431, 413) may stop reading: still read its answer
  return parse_reply(conn.read_to_end());
}

}  // namespace bbmd::test

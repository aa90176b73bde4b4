// POSIX sockets behind the test HTTP client (see http_client.hpp).
#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <utility>

namespace bbmd::test {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string request_head(std::string_view method, std::string_view target, std::string_view extra_headers,
                         std::string_view body, bool close) {
  std::string request = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                        (close ? "Connection: close\r\n" : "") + std::string(extra_headers);
  if (!body.empty() || method == "POST") request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return request + "\r\n" + std::string(body);
}

}  // namespace

std::string HttpReply::header(std::string_view name) const {
  const auto wanted = lower(name) + ":";
  std::size_t start = headers.find("\r\n");
  while (start != std::string::npos) {
    start += 2;
    const auto end = headers.find("\r\n", start);
    const auto line = headers.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (lower(line.substr(0, wanted.size())) == wanted) {
      auto value = line.substr(wanted.size());
      value.erase(0, value.find_first_not_of(' '));
      return value;
    }
    start = end;
  }
  return "";
}

bool HttpReply::keep_alive() const {
  return headers.rfind("HTTP/1.1", 0) == 0 && lower(header("Connection")) != "close";
}

HttpConnection::HttpConnection(int port, std::chrono::milliseconds timeout) {
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

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool HttpConnection::send(std::string_view bytes) {
  if (fd_ < 0) return false;
  for (std::size_t sent = 0; sent < bytes.size();) {
    const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool HttpConnection::fill() {
  if (fd_ < 0) return false;
  char buf[8192];
  const auto n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<std::size_t>(n));
  return true;
}

HttpReply HttpConnection::request(std::string_view method, std::string_view target, std::string_view extra_headers,
                                  std::string_view body) {
  send(request_head(method, target, extra_headers, body, false));
  return read_reply(method == "HEAD");
}

HttpReply HttpConnection::read_reply(bool head) {
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return parse_reply(std::exchange(buffer_, {}));
  }
  auto reply = parse_reply(buffer_.substr(0, head_end + 4));
  const auto length = reply.header("Content-Length");
  std::size_t body_end = buffer_.size();
  if (head) {
    body_end = head_end + 4;
  } else if (!length.empty()) {
    body_end = head_end + 4 + std::stoul(length);
    while (buffer_.size() < body_end && fill()) {
    }
    body_end = std::min(body_end, buffer_.size());
  } else {
    while (fill()) {
    }
    body_end = buffer_.size();
  }
  reply.body = buffer_.substr(head_end + 4, body_end - head_end - 4);
  buffer_.erase(0, body_end);
  return reply;
}

std::string HttpConnection::read_to_end() {
  while (fill()) {
  }
  return std::exchange(buffer_, {});
}

bool HttpConnection::closed_by_peer_within(std::chrono::milliseconds timeout) {
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
  HttpConnection conn(port, timeout);
  if (!conn.connected()) return {};
  conn.send(bytes);  // a server that answers early (431, 413) may stop reading: still read its answer
  return parse_reply(conn.read_to_end());
}

HttpReply http_request(int port, std::string_view method, std::string_view target, std::string_view extra_headers,
                       std::string_view body, std::chrono::milliseconds timeout) {
  return raw_http(port, request_head(method, target, extra_headers, body, true), timeout);
}

HttpReply http_get(int port, std::string_view path, std::chrono::milliseconds timeout) {
  return raw_http(port, "GET " + std::string(path) + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                  timeout);
}

}  // namespace bbmd::test

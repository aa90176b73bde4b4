#pragma once
// The one HTTP client of every test tier that talks to bbmd's debug listener. A connection sends
// exactly the bytes it is given (well-formed requests or garbage) and reads either one answer
// (keep-alive) or everything until the server closes; the helpers below build the requests.
#include <chrono>
#include <string>
#include <string_view>

namespace bbmd::test {

struct HttpReply {
  int status = 0;  // 0: no parsable answer (refused, reset, timed out, or not HTTP)
  std::string headers;
  std::string body;
  // The value of header `name` (any case), "" if absent.
  [[nodiscard]] std::string header(std::string_view name) const;
  // HTTP/1.1 without "Connection: close".
  [[nodiscard]] bool keep_alive() const;
};

// A blocking loopback TCP connection with send and receive timeouts; closed on destruction.
class HttpConnection {
 public:
  HttpConnection(int port, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  [[nodiscard]] bool connected() const noexcept { return fd_ >= 0; }
  // False once the peer stops accepting bytes (closed or reset).
  bool send(std::string_view bytes);
  // One HTTP/1.1 request on this connection, kept open; `extra_headers` are whole
  // "Name: value\r\n" lines. Returns the answer (read as read_reply does).
  HttpReply request(std::string_view method, std::string_view target, std::string_view extra_headers = "",
                    std::string_view body = "");
  // The next answer: its head, and a body of Content-Length bytes (none after HEAD), or
  // everything until the peer closes when it gives no length.
  HttpReply read_reply(bool head = false);
  // Everything the peer sends until it closes the connection or the timeout passes.
  [[nodiscard]] std::string read_to_end();
  // True when the peer has closed (or reset) the connection within `timeout`, having sent at most
  // an answer (drained) before.
  [[nodiscard]] bool closed_by_peer_within(std::chrono::milliseconds timeout);

 private:
  bool fill();  // reads more into buffer_; false on close, error or timeout
  int fd_ = -1;
  std::string buffer_;  // read but not yet consumed
};

// "HTTP/1.x NNN ...\r\n...\r\n\r\nbody" -> {NNN, head, body}; status 0 if it is not that.
[[nodiscard]] HttpReply parse_reply(const std::string& raw);

// Connects, sends `bytes`, and parses whatever comes back before the connection closes.
[[nodiscard]] HttpReply raw_http(int port, std::string_view bytes,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
// One request with "Connection: close" (HTTP/1.1; a POST always carries its Content-Length).
[[nodiscard]] HttpReply http_request(int port, std::string_view method, std::string_view target,
                                     std::string_view extra_headers = "", std::string_view body = "",
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
// One GET, as HTTP/1.0 (the server closes after answering).
[[nodiscard]] HttpReply http_get(int port, std::string_view path,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace bbmd::test

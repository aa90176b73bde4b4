#pragma once
// One raw-bytes HTTP client for every test that talks to bbmd's debug listener: it sends exactly
// the bytes it is given (well-formed requests or garbage), reads until the server closes or the
// timeout passes, and splits what came back into status, headers and body.
#include <chrono>
#include <string>
#include <string_view>

namespace bbmd::test {

struct HttpReply {
  int status = 0;  // 0: no parsable answer (refused, reset, timed out, or not HTTP)
  std::string headers;
  std::string body;
};

// A blocking loopback TCP connection with send and receive timeouts; closed on destruction.
class RawConnection {
 public:
  RawConnection(int port, std::chrono::milliseconds timeout);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  [[nodiscard]] bool connected() const noexcept { return fd_ >= 0; }
  // False once the peer stops accepting bytes (closed or reset).
  bool send(std::string_view bytes);
  // Everything the peer sends until it closes the connection or the timeout passes.
  [[nodiscard]] std::string read_to_end();
  // True when the peer has closed (or reset) the connection within `timeout`, without sending
  // anything more than an HTTP answer.
  [[nodiscard]] bool closed_by_peer_within(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
};

// "HTTP/1.x NNN ...\r\n...\r\n\r\nbody" -> {NNN, head, body}; status 0 if it is not that.
[[nodiscard]] HttpReply parse_reply(const std::string& raw);

// Connects, sends `bytes`, and parses whatever comes back before the connection closes.
[[nodiscard]] HttpReply raw_http(int port, std::string_view bytes,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace bbmd::test

#pragma once
// The debug HTTP listener (Boost.Beast on the Asio loop): /metrics, /healthz, /readyz.
// One listener serves every path so that metrics, health and (later) the admin API share a loop.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace bbmd::http {

struct Response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string allow;  // the Allow header of a 405
};

// Answers "is the database reachable and the schema present?"; empty string = ready,
// otherwise the reason it is not.
using ReadinessProbe = std::function<boost::asio::awaitable<std::string>()>;
using MetricsRenderer = std::function<std::string()>;

struct ServerOptions {
  std::string addr = "127.0.0.1:5001";  // host:port; port 0 picks a free one
  bool metrics_enabled = true;
  std::string metrics_path = "/metrics";
  std::size_t max_connections = 64;              // extra connections are closed on accept
  std::chrono::milliseconds read_timeout{10000};  // per request, so an idle or slow client cannot pin a socket
  std::chrono::milliseconds ready_timeout{5000};  // a hung readiness probe answers 503, not never
};

// "host:port" as the listener reads it: host is an IPv4 literal, "[v6]" or "localhost"
// (127.0.0.1); an empty host (":5001") means every interface. Throws std::invalid_argument.
struct ListenAddress {
  std::string ip;  // an address literal, e.g. "127.0.0.1", "::1", "0.0.0.0"
  unsigned short port = 0;
};
[[nodiscard]] ListenAddress parse_listen_address(std::string_view addr);

// Answers one request the way the listener does (method as sent, target with any query).
// HEAD is answered like GET; the caller sends no body.
[[nodiscard]] boost::asio::awaitable<Response> route(const ServerOptions& options, const MetricsRenderer& metrics,
                                                     const ReadinessProbe& ready, std::string_view method,
                                                     std::string_view target);

class Server {
 public:
  // Binds at once; throws std::runtime_error naming the address on failure.
  Server(boost::asio::any_io_executor ex, ServerOptions options, MetricsRenderer metrics, ReadinessProbe ready);
  ~Server();
  void start();       // spawns the accept loop
  void stop() noexcept;
  [[nodiscard]] unsigned short port() const noexcept;  // the bound port

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace bbmd::http

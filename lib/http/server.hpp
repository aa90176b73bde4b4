#pragma once
// The debug HTTP listener (Boost.Beast on the Asio loop): /metrics, /healthz, /readyz, and a hook
// for every other path (the admin API and status page), so that they all share one loop.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bbmd::http {

struct Response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string allow;  // the Allow header of a 405
  std::vector<std::pair<std::string, std::string>> headers{};  // any others, e.g. WWW-Authenticate
};

// What the hook sees of a request; the views live until the hook's awaitable completes.
struct Request {
  std::string_view method;
  std::string_view target;         // path and query, as sent
  std::string_view authorization;  // the Authorization header, empty if absent
  std::string_view body;           // bounded by the listener (413 beyond its limit)
};
// Answers the paths the built-in routes do not own; nullopt means "not mine" (404).
using Handler = std::function<boost::asio::awaitable<std::optional<Response>>(const Request&)>;

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

// Answers one request the way the listener does (method as sent, target with any query).
// HEAD is answered like GET; the caller sends no body.
[[nodiscard]] boost::asio::awaitable<Response> route(const ServerOptions& options, const MetricsRenderer& metrics,
                                                     const ReadinessProbe& ready, std::string_view method,
                                                     std::string_view target);
// The same, handing paths the built-in routes do not own to `extra` (may be empty).
[[nodiscard]] boost::asio::awaitable<Response> route(const ServerOptions& options, const MetricsRenderer& metrics,
                                                     const ReadinessProbe& ready, const Handler& extra,
                                                     const Request& request);

class Server {
 public:
  // Binds at once; throws std::runtime_error naming the address on failure.
  Server(boost::asio::any_io_executor ex, ServerOptions options, MetricsRenderer metrics, ReadinessProbe ready,
         Handler extra = {});
  ~Server();
  void start();       // spawns the accept loop
  void stop() noexcept;
  [[nodiscard]] unsigned short port() const noexcept;  // the bound port

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace bbmd::http

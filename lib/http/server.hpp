#pragma once
// The debug HTTP listener (Boost.Beast on the Asio loop): /metrics, /healthz, /readyz.
// One listener serves every path so that metrics, health and (later) the admin API share a loop.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>

namespace bbmd::http {

struct Response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Answers "is the database reachable and the schema present?"; empty string = ready,
// otherwise the reason it is not.
using ReadinessProbe = std::function<boost::asio::awaitable<std::string>()>;
using MetricsRenderer = std::function<std::string()>;

struct ServerOptions {
  std::string addr = "127.0.0.1:5001";  // host:port; port 0 picks a free one
  bool metrics_enabled = true;
  std::string metrics_path = "/metrics";
};

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

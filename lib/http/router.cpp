// The listener's routing table: which path answers what, and with which methods.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <optional>
#include <variant>

#include "http/server.hpp"

namespace bbmd::http {
namespace {

namespace asio = boost::asio;

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kAllowGet = "GET, HEAD";

Response text(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

bool is_get(std::string_view method) { return method == "GET" || method == "HEAD"; }

Response render_metrics(const MetricsRenderer& metrics) {
  try {
    auto r = text(200, metrics());
    r.content_type = kMetricsContentType;
    return r;
  } catch (const std::exception& e) {
    return text(500, std::string("rendering metrics failed: ") + e.what());
  }
}

// The probe talks to the database; it gets a deadline so /readyz always answers.
asio::awaitable<Response> check_ready(const ReadinessProbe& ready, std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  if (!ready) co_return text(200, "ready");
  std::string reason;
  try {
    asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
    auto result = co_await (ready() || timer.async_wait(asio::use_awaitable));
    reason = result.index() == 0 ? std::get<0>(std::move(result)) : std::string("readiness check timed out");
  } catch (const std::exception& e) {
    reason = std::string("readiness check failed: ") + e.what();
  }
  co_return reason.empty() ? text(200, "ready") : text(503, std::move(reason));
}

}  // namespace

asio::awaitable<Response> route(const ServerOptions& options, const MetricsRenderer& metrics,
                                const ReadinessProbe& ready, std::string_view method, std::string_view target) {
  const Request request{method, target, {}, {}};
  co_return co_await route(options, metrics, ready, Handler{}, request);
}

asio::awaitable<Response> route(const ServerOptions& options, const MetricsRenderer& metrics,
                                const ReadinessProbe& ready, const Handler& extra, const Request& request) {
  const auto method = request.method;
  const auto path = request.target.substr(0, request.target.find('?'));
  const bool metrics_route = options.metrics_enabled && metrics && path == options.metrics_path;
  if (!metrics_route && path != "/healthz" && path != "/readyz") {
    // The built-in paths win, so a hook can never shadow health or metrics.
    std::optional<Response> answer;
    if (extra) answer = co_await extra(request);
    co_return answer ? std::move(*answer) : text(404, "not found");
  }
  if (!is_get(method)) {
    auto r = text(405, "method not allowed");
    r.allow = kAllowGet;
    co_return r;
  }
  if (metrics_route) co_return render_metrics(metrics);
  if (path == "/healthz") co_return text(200, "ok");  // the loop answered, so the process is alive
  co_return co_await check_ready(ready, options.ready_timeout);
}

}  // namespace bbmd::http

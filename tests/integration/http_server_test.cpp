// Integration tests for lib/http: the real listener on a loopback port, driven by the tests' HTTP client.
#include <atomic>
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "http/server.hpp"
#include "metrics/metrics.hpp"
#include "net/listen_address.hpp"
#include "support/http_client.hpp"
#include "support/poll.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using bbmd::http::ReadinessProbe;
using bbmd::http::Server;
using bbmd::http::ServerOptions;

asio::awaitable<std::string> ready_probe() { co_return ""; }
asio::awaitable<std::string> not_ready_probe() { co_return "database unreachable: connection refused"; }
asio::awaitable<std::string> hung_probe() {
  asio::steady_timer forever(co_await asio::this_coro::executor, 1h);
  co_await forever.async_wait(asio::use_awaitable);
  co_return "";
}
// Hangs like hung_probe, after telling the test thread the request reached it.
std::atomic<bool> probe_entered{false};
asio::awaitable<std::string> signalling_hung_probe() {
  probe_entered = true;
  auto answer = co_await hung_probe();
  co_return answer;
}

ServerOptions local_options() {
  ServerOptions o;
  o.addr = "127.0.0.1:0";
  return o;
}

// The server's loop runs on its own thread so that Catch assertions stay on the test thread.
class Running {
 public:
  explicit Running(ServerOptions options, ReadinessProbe probe = ready_probe)
      : server_(ioc_.get_executor(), std::move(options), [this] { return metrics.scrape(); }, std::move(probe)) {
    metrics.pool({0, 0, 1, 1, 0});
    server_.start();
    loop_ = std::async(std::launch::async, [this] { ioc_.run(); });
  }
  ~Running() {
    server_.stop();
    if (loop_.wait_for(5s) != std::future_status::ready) ioc_.stop();
  }
  // True when the loop ran out of work within the deadline after stop().
  bool stop_and_wait(std::chrono::milliseconds deadline) {
    server_.stop();
    return loop_.wait_for(deadline) == std::future_status::ready;
  }
  [[nodiscard]] unsigned short port() const { return server_.port(); }

  bbmd::metrics::Metrics metrics;  // declared before the server: the renderer reads it

 private:
  asio::io_context ioc_;
  Server server_;
  std::future<void> loop_;
};

using Client = bbmd::test::HttpConnection;

}  // namespace

TEST_CASE("http: listen address parsing", "[http]") {
  using bbmd::net::parse_listen_address;
  CHECK(parse_listen_address("127.0.0.1:5001").ip == "127.0.0.1");
  CHECK(parse_listen_address("127.0.0.1:5001").port == 5001);
  CHECK(parse_listen_address("localhost:0").ip == "127.0.0.1");
  CHECK(parse_listen_address("[::1]:8080").ip == "::1");
  CHECK(parse_listen_address("[::1]:8080").port == 8080);
  CHECK(parse_listen_address(":5001").ip == "0.0.0.0");
  CHECK(parse_listen_address("0.0.0.0:65535").port == 65535);
  for (const char* bad : {"", "5001", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                          "127.0.0.1:50x", "::1:5001", "[::1]5001", "[nope]:1", "example.com:5001"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_listen_address(bad), std::invalid_argument);
  }
}

TEST_CASE("http: bind failures name the address", "[http]") {
  asio::io_context ioc;
  ServerOptions nonsense;
  nonsense.addr = "nonsense";
  CHECK_THROWS_WITH(Server(ioc.get_executor(), nonsense, {}, {}), Catch::Contains("nonsense"));
  Server first(ioc.get_executor(), local_options(), {}, {});
  ServerOptions same;
  same.addr = "127.0.0.1:" + std::to_string(first.port());
  CHECK(first.port() != 0);
  CHECK_THROWS_AS(Server(ioc.get_executor(), same, {}, {}), std::runtime_error);
  CHECK_THROWS_WITH(Server(ioc.get_executor(), same, {}, {}), Catch::Contains(same.addr));
}

TEST_CASE("http: routes answer with exact status and body", "[http]") {
  Running srv(local_options());
  Client c(srv.port());

  auto r = c.request("GET", "/metrics");
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(r.body.find("\nregistry_database_reconnects_total 1\n") != std::string::npos);

  // The same connection stays open (keep-alive) for every request below.
  r = c.request("GET", "/metrics?name[]=x");
  CHECK(r.status == 200);

  r = c.request("HEAD", "/metrics");
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(std::stoul(r.header("Content-Length")) > 100);

  r = c.request("GET", "/healthz");
  CHECK(r.status == 200);
  CHECK(r.body == "ok");

  r = c.request("GET", "/readyz");
  CHECK(r.status == 200);
  CHECK(r.body == "ready");

  r = c.request("GET", "/nope");
  CHECK(r.status == 404);
  CHECK(r.body == "not found");

  r = c.request("POST", "/metrics");
  CHECK(r.status == 405);
  CHECK(r.header("Allow") == "GET, HEAD");

  r = c.request("DELETE", "/healthz");
  CHECK(r.status == 405);
  CHECK(r.header("Allow") == "GET, HEAD");
}

TEST_CASE("http: readiness reports the probe's reason", "[http]") {
  Running srv(local_options(), not_ready_probe);
  Client c(srv.port());
  const auto r = c.request("GET", "/readyz");
  CHECK(r.status == 503);
  CHECK(r.body == "database unreachable: connection refused");
}

TEST_CASE("http: a hung readiness probe times out", "[http]") {
  auto options = local_options();
  options.ready_timeout = 200ms;
  Running srv(options, hung_probe);
  Client c(srv.port());
  const auto r = c.request("GET", "/readyz");
  CHECK(r.status == 503);
  CHECK(r.body == "readiness check timed out");
}

TEST_CASE("http: metrics can be disabled or moved", "[http]") {
  auto options = local_options();
  options.metrics_enabled = false;
  Running off(options);
  CHECK(Client(off.port()).request("GET", "/metrics").status == 404);

  options.metrics_enabled = true;
  options.metrics_path = "/debug/metrics";
  Running moved(options);
  Client c(moved.port());
  CHECK(c.request("GET", "/debug/metrics").status == 200);
  CHECK(c.request("GET", "/metrics").status == 404);
}

TEST_CASE("http: oversized requests are refused", "[http]") {
  Running srv(local_options());
  {
    // Header over 8 KiB: 431 (RFC 6585), then the server closes.
    Client c(srv.port());
    const auto r = c.request("GET", "/healthz", "X-Padding: " + std::string(9000, 'a') + "\r\n");
    CHECK(r.status == 431);
    CHECK_FALSE(r.keep_alive());
    CHECK(c.closed_by_peer_within(5s));
  }
  {
    // Body over 64 KiB: 413, then the server closes.
    Client c(srv.port());
    c.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n" + std::string(70000, 'b'));
    const auto r = c.read_reply();
    CHECK(r.status == 413);
    CHECK(c.closed_by_peer_within(5s));
  }
  {
    // Malformed request line: 400, then close.
    Client c(srv.port());
    c.send("NOT HTTP AT ALL\r\n\r\n");
    const auto r = c.read_reply();
    CHECK(r.status == 400);
  }
  // The server still answers afterwards.
  CHECK(Client(srv.port()).request("GET", "/healthz").status == 200);
}

TEST_CASE("http: an idle client is dropped after the read timeout", "[http]") {
  auto options = local_options();
  options.read_timeout = 200ms;
  Running srv(options);
  Client c(srv.port());
  const auto start = std::chrono::steady_clock::now();
  CHECK(c.closed_by_peer_within(5s));
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("http: at the connection limit the longest-idle session makes room", "[http]") {
  auto options = local_options();
  options.max_connections = 1;
  Running srv(options);
  Client first(srv.port());
  REQUIRE(first.request("GET", "/healthz").status == 200);  // first now waits idle
  Client second(srv.port());
  CHECK(second.request("GET", "/healthz").status == 200);
  CHECK(first.closed_by_peer_within(5s));
}

TEST_CASE("http: connections beyond the limit are closed while every session is answering", "[http]") {
  auto options = local_options();
  options.max_connections = 1;
  probe_entered = false;
  Running srv(options, signalling_hung_probe);
  Client busy(srv.port());
  busy.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");  // answering: the probe never returns
  REQUIRE(bbmd::test::poll_until([] { return probe_entered.load(); }, 2s));
  Client refused(srv.port());
  refused.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(refused.closed_by_peer_within(5s));
  CHECK(srv.stop_and_wait(2s));
}

TEST_CASE("http: stop() ends the loop with clients still connected", "[http]") {
  Running srv(local_options());  // default 10s read timeout: stop must not wait for it
  Client idle(srv.port());
  REQUIRE(idle.request("GET", "/healthz").status == 200);
  CHECK(srv.stop_and_wait(2s));
  CHECK(idle.closed_by_peer_within(5s));
}

TEST_CASE("http: stop() cancels a pending readiness probe", "[http]") {
  Running srv(local_options(), hung_probe);  // default 5s probe deadline
  Client waiting(srv.port());
  waiting.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(100ms);  // let the request reach the probe
  CHECK(srv.stop_and_wait(2s));
}

// The listener's hook for bbm-aware routes and the admin pieces that need no database: bearer
// checks, routing precedence, and the status page's HTML.
#include <boost/asio/awaitable.hpp>
#include <catch2/catch.hpp>

#include "http/admin.hpp"
#include "http/server.hpp"
#include "support/async.hpp"

namespace asio = boost::asio;
using bbmd::http::check_bearer;
using bbmd::http::Handler;
using bbmd::http::Request;
using bbmd::http::Response;

TEST_CASE("bearer check: 401 without a token, 403 wrong or disabled, 0 when right", "[http][admin]") {
  CHECK(check_bearer("", "tok") == 401);
  CHECK(check_bearer("Basic dG9rOg==", "tok") == 401);
  CHECK(check_bearer("Bearer ", "tok") == 401);
  CHECK(check_bearer("Bearer nope", "tok") == 403);
  CHECK(check_bearer("Bearer tokk", "tok") == 403);
  CHECK(check_bearer("Bearer to", "tok") == 403);
  CHECK(check_bearer("Bearer tok", "tok") == 0);
  CHECK(check_bearer("bearer  tok ", "tok") == 0);  // scheme is case-insensitive (RFC 7235)
  CHECK(check_bearer("Bearer tok", "") == 403);     // no token configured: actions are off
  CHECK(check_bearer("", "") == 403);
}

TEST_CASE("hook answers unknown paths but never shadows health or metrics", "[http][admin]") {
  bbmd::http::ServerOptions options;
  std::string seen_auth, seen_body;
  Handler hook = [&](const Request& r) -> asio::awaitable<std::optional<Response>> {
    seen_auth = std::string(r.authorization);
    seen_body = std::string(r.body);
    if (r.target.starts_with("/mine")) {
      Response out;
      out.body = "mine";
      co_return out;
    }
    co_return std::nullopt;
  };
  const bbmd::http::MetricsRenderer metrics = [] { return std::string("m 1\n"); };
  auto ask = [&](std::string target) {
    return bbmd::test::run_async([&](auto) -> asio::awaitable<Response> {
      const Request req{"GET", target, "Bearer x", "body"};
      co_return co_await bbmd::http::route(options, metrics, {}, hook, req);
    });
  };
  CHECK(ask("/mine").body == "mine");
  CHECK(seen_auth == "Bearer x");
  CHECK(seen_body == "body");
  CHECK(ask("/healthz").body == "ok");
  CHECK(ask("/metrics").body == "m 1\n");
  CHECK(ask("/other").status == 404);
}

TEST_CASE("status page: one row per migration, escaped, self-refreshing, phone viewport", "[http][admin]") {
  bbmd::bbm::Progress a;
  a.id = 1;
  a.name = "20260101_<script>alert(1)</script>";
  a.status = 1;
  a.percent = 42.5;
  a.rows_per_second = 1234;
  a.eta_seconds = 75;
  bbmd::bbm::Progress b;
  b.id = 2;
  b.name = "20260102_held";
  b.hold_reason = "missing index: CREATE INDEX \"x\"";
  const auto html = bbmd::http::render_status_page({a, b}, 7);
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("&lt;script&gt;") != std::string::npos);
  CHECK(html.find("<meta http-equiv=\"refresh\" content=\"7\">") != std::string::npos);
  CHECK(html.find("name=\"viewport\"") != std::string::npos);
  CHECK(html.find("<tr data-id=\"1\">") != std::string::npos);
  CHECK(html.find("<tr data-id=\"2\">") != std::string::npos);
  CHECK(html.find("<progress max=\"100\" value=\"42.5\">") != std::string::npos);
  CHECK(html.find("1234") != std::string::npos);
  CHECK(html.find("1m15s") != std::string::npos);
  CHECK(html.find("held: missing index: CREATE INDEX &quot;x&quot;") != std::string::npos);
  CHECK(bbmd::http::render_status_page({}, 5).find("No batched background migrations") != std::string::npos);
}

// Bad input catalogue, HTTP requests to the debug listener: each raw request gets its exact
// status, and the listener keeps serving afterwards; half-sent requests are cut off at the read
// timeout without blocking anyone, and a crowd of idle connections cannot lock out /healthz.
#include <memory>

#include "reliability/bad_input_support.hpp"
#include "support/bbm_fixture.hpp"
#include "support/poll.hpp"
#include "support/http_client.hpp"

namespace bbmd::reliability {

namespace {

using namespace std::string_literals;

constexpr const char* kGroup = "bad http";
using namespace std::chrono_literals;

struct HttpCase {
  std::string name;
  std::string bytes;  // sent as they are
  int status;
};

std::string get(const std::string& target, const std::string& headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + "\r\n";
}

std::string with_method(const std::string& method, const std::string& target, const std::string& headers = "") {
  return method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n" + headers +
         "\r\n";
}

std::vector<HttpCase> http_cases() {
  const std::string big_body(70 * 1024, 'b');
  return {
      {"POST /metrics", with_method("POST", "/metrics"), 405},
      {"DELETE /healthz", with_method("DELETE", "/healthz"), 405},
      {"PUT on a migration action", with_method("PUT", "/api/v1/migrations/1/pause"), 405},
      {"DELETE the migration list", with_method("DELETE", "/api/v1/migrations"), 405},
      {"GET on a POST-only action", get("/api/v1/migrations/1/pause"), 405},
      {"POST an action without a configured token", with_method("POST", "/api/v1/migrations/1/pause"), 403},
      {"POST with a 7000-byte bearer token",
       with_method("POST", "/api/v1/migrations/1/resume", "Authorization: Bearer " + std::string(7000, 't') + "\r\n"),
       403},
      {"migration id not a number", get("/api/v1/migrations/abc"), 404},
      {"migration id beyond 64 bits", get("/api/v1/migrations/99999999999999999999999999"), 404},
      {"negative migration id", get("/api/v1/migrations/-1"), 404},
      {"path traversal", get("/../../etc/passwd"), 404},
      {"target without a leading slash", get("healthz"), 404},
      {"URL of 7000 bytes", get("/" + std::string(7000, 'u')), 404},
      {"NUL in the query", get("/healthz?x=%00"), 200},
      {"headers over 8 KiB", get("/healthz", "X-Filler: " + std::string(9 * 1024, 'h') + "\r\n"), 431},
      {"10000 small headers", get("/healthz", [] {
         std::string h;
         for (int i = 0; i < 10000; ++i) h += "X-" + std::to_string(i) + ": v\r\n";
         return h;
       }()),
       431},
      {"body over 64 KiB", "POST /api/v1/migrations/1/pause HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                               std::to_string(big_body.size()) + "\r\n\r\n" + big_body,
       413},
      {"declared body of 100 GB", "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n", 413},
      {"negative content length", "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
      {"two different content lengths",
       "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
      {"bad chunk size", "POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"garbage bytes", "\x00\x01\x02\xff\xfe\r\n\r\n"s, 400},
      {"request line without version", "GET /healthz\r\n\r\n", 400},
      {"unknown HTTP version", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 400},
      {"method with illegal characters", "G(T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"header without a colon", "GET /healthz HTTP/1.1\r\nHost x\r\n\r\n", 400},
      {"bare LF line ends", "GET /healthz HTTP/1.1\nHost: x\n\n", 400},
      {"TLS handshake bytes", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n"s, 400},
  };
}

bool healthy(int port) { return test::raw_http(port, get("/healthz"), 3s).status == 200; }

}  // namespace

BBMD_RELIABILITY_SCENARIO(bad_input_http, 44)(const Options&, Tally& tally) {
  test::TestDatabase db;
  test::apply_bbmd_schema(db);
  test::ConfigFile cfg(db, {{"database.backgroundmigrations.enabled", "false"}});
  test::BbmdProcess serve({"serve", cfg.path()});
  if (!serve.wait_for_log("\"msg\":\"bbmd serving\"", 15s)) {
    tally.fail(std::string(kGroup) + ": bbmd serve did not start; stderr: " + serve.err());
    return;
  }
  const auto port = test::debug_port(serve.err());
  if (!port) {
    tally.fail(std::string(kGroup) + ": no debug listener port in the log");
    return;
  }
  for (const auto& c : http_cases()) {
    ++tally.bad_inputs;
    const auto reply = test::raw_http(*port, c.bytes, 5s);
    const auto label = std::string(kGroup) + ": " + c.name;
    tally.expect(reply.status == c.status, label + ": expected status " + std::to_string(c.status) + ", got " +
                                               std::to_string(reply.status));
    tally.expect(healthy(*port), label + ": /healthz no longer answers 200 afterwards");
  }

  // Half-sent requests and a crowd of idle connections, all at once: others are still served at
  // once, and the server cuts the half-sent requests off at its 10 s read timeout.
  tally.bad_inputs += 3;
  // The idle crowd first: at the connection limit the longest waiting are evicted, and the
  // half-sent requests must end by the read timeout, not by eviction.
  std::vector<std::unique_ptr<test::HttpConnection>> idle;
  for (int i = 0; i < 200; ++i) idle.push_back(std::make_unique<test::HttpConnection>(*port, 15s));
  test::HttpConnection half(*port, 15s);
  half.send("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  test::HttpConnection part_body(*port, 15s);
  part_body.send("POST /api/v1/migrations/1/pause HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part");
  const auto asked = std::chrono::steady_clock::now();
  tally.expect(healthy(*port), std::string(kGroup) + ": /healthz failed while 200 idle connections were open");
  tally.expect(std::chrono::steady_clock::now() - asked < 2s,
               std::string(kGroup) + ": /healthz took 2 s or more behind idle connections");
  const bool half_cut = half.closed_by_peer_within(14s);
  if (!half_cut) ++tally.hangs;
  tally.expect(half_cut, std::string(kGroup) + ": a half-sent request head was not cut off within 14 s");
  const bool body_cut = part_body.closed_by_peer_within(2s);
  if (!body_cut) ++tally.hangs;
  tally.expect(body_cut, std::string(kGroup) + ": a half-sent body was not cut off with the read timeout");
  idle.clear();
  tally.expect(healthy(*port), std::string(kGroup) + ": /healthz failed after the idle connections closed");
  stop_serve(tally, kGroup, serve, db.config().password);
}

}  // namespace bbmd::reliability

// The listener's sockets: binding, the accept loop, one coroutine per connection, and shutdown.
#include "http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <array>
#include <exception>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

#include "log/log.hpp"
#include "net/listen_address.hpp"

namespace bbmd::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Bounds on what one client may send: plenty for a scraper or curl, nothing a flood can grow.
constexpr std::uint32_t kHeaderLimit = 8 * 1024;
constexpr std::uint64_t kBodyLimit = 64 * 1024;
// After a rejected request the rest of it may still be in flight; reading it off for a moment
// lets the client see the error status instead of a reset.
constexpr auto kLingerTimeout = 1s;
constexpr std::size_t kLingerBytes = 64 * 1024;
// accept() failing (EMFILE, ENOBUFS) tends to repeat at once; pause rather than spin.
constexpr auto kAcceptErrorPause = 100ms;

const bbmd::log::Logger& logger() {
  static const bbmd::log::Logger instance("bbmd.http");
  return instance;
}

void log_failure(const char* msg, const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    logger().warn(msg, {{bbmd::log::kError, ex.what()}});
  } catch (...) {
    logger().warn(msg, {{bbmd::log::kError, "unknown exception"}});
  }
}

tcp::endpoint resolve(const std::string& addr) {
  try {
    const auto a = net::parse_listen_address(addr);
    return {asio::ip::make_address(a.ip), a.port};
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
}

struct Session {
  explicit Session(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  asio::cancellation_signal cancel;  // stop() cuts a session short, including a pending readiness probe
  // Waiting for a request (not answering one) since this time; such a session may be evicted.
  std::optional<std::chrono::steady_clock::time_point> waiting_since = std::chrono::steady_clock::now();

  void close() {
    cancel.emit(asio::cancellation_type::terminal);
    stream.close();
  }
};
using SessionPtr = std::shared_ptr<Session>;

bhttp::response<bhttp::string_body> to_beast(Response r, unsigned version, bool head) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(r.status), version};
  out.set(bhttp::field::server, "bbmd");
  out.set(bhttp::field::content_type, r.content_type);
  if (!r.allow.empty()) out.set(bhttp::field::allow, r.allow);
  for (const auto& [name, value] : r.headers) out.set(name, value);
  out.body() = std::move(r.body);
  out.prepare_payload();
  if (head) out.body().clear();  // Content-Length still tells the GET size, as HEAD should
  return out;
}

// A request Beast could not parse: too big (431 for headers as RFC 6585 says, 413 for a body) or malformed.
unsigned rejection_status(boost::system::error_code ec) {
  if (ec == bhttp::error::header_limit) return 431;
  if (ec == bhttp::error::body_limit) return 413;
  return 400;
}
std::string rejection_text(boost::system::error_code ec) {
  if (ec == bhttp::error::header_limit) return "request header fields too large";
  if (ec == bhttp::error::body_limit) return "request body too large";
  return "bad request: " + ec.message();
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor ex, ServerOptions opts, MetricsRenderer m, ReadinessProbe r, Handler h)
      : strand(asio::make_strand(ex)),
        options(std::move(opts)),
        metrics(std::move(m)),
        ready(std::move(r)),
        extra(std::move(h)),
        acceptor(strand) {}

  // Every member is touched only on this strand, so the loop may run on several threads.
  asio::strand<asio::any_io_executor> strand;
  ServerOptions options;
  MetricsRenderer metrics;
  ReadinessProbe ready;
  Handler extra;
  tcp::acceptor acceptor;
  unsigned short port = 0;
  bool started = false;
  bool stopped = false;
  std::set<SessionPtr> sessions;

  void bind() {
    const auto endpoint = resolve(options.addr);
    boost::system::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + options.addr + ": " + ec.message());
    port = acceptor.local_endpoint().port();
  }

  void shutdown() {
    if (stopped) return;
    stopped = true;
    boost::system::error_code ec;
    acceptor.close(ec);
    // Copy first: a cancellation handler may run inline and must not find the set mid-iteration.
    const std::vector<SessionPtr> open(sessions.begin(), sessions.end());
    for (const auto& s : open) s->close();
  }

  // At the connection limit, the session that has waited longest for a request makes room, so
  // idle or trickling clients cannot lock out a liveness probe. False if every session is busy.
  bool evict_longest_waiting() {
    SessionPtr oldest;
    for (const auto& s : sessions) {
      if (s->waiting_since && (!oldest || *s->waiting_since < *oldest->waiting_since)) oldest = s;
    }
    if (!oldest) return false;
    sessions.erase(oldest);
    oldest->close();
    return true;
  }

  asio::awaitable<void> accept_loop() {
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
      if (stopped || ec == asio::error::operation_aborted) break;
      if (ec) {
        logger().warn("http accept failed", {{bbmd::log::kError, ec.message()}});
        asio::steady_timer pause(strand, kAcceptErrorPause);
        co_await pause.async_wait(kUseTuple);
        continue;
      }
      if (sessions.size() >= options.max_connections && !evict_longest_waiting()) {
        logger().debug("http connection limit reached; closing new connection");
        socket.close(ec);
        continue;
      }
      spawn_session(std::move(socket));
    }
  }

  void spawn_session(tcp::socket socket) {
    auto s = std::make_shared<Session>(std::move(socket));
    sessions.insert(s);
    asio::co_spawn(strand, serve(s),
                   asio::bind_cancellation_slot(s->cancel.slot(), [self = shared_from_this(), s](std::exception_ptr e) {
                     self->sessions.erase(s);
                     log_failure("http session failed", e);
                   }));
  }

  asio::awaitable<void> serve(SessionPtr s) {
    // After stop() the remaining steps see errors as values and wind down, instead of throwing.
    co_await asio::this_coro::throw_if_cancelled(false);
    beast::flat_buffer buffer;
    while (!stopped) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(kBodyLimit);
      s->stream.expires_after(options.read_timeout);
      s->waiting_since = std::chrono::steady_clock::now();
      auto [ec, n] = co_await bhttp::async_read(s->stream, buffer, parser, kUseTuple);
      s->waiting_since.reset();
      if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) break;
      if (ec.category() == bhttp::make_error_code(bhttp::error::header_limit).category()) {
        co_await reject(*s, rejection_status(ec), rejection_text(ec));
        co_return;
      }
      if (ec) break;  // timeout, reset, or stop(): nothing more to say on this socket

      const auto& req = parser.get();
      const auto auth = req.find(bhttp::field::authorization);
      const Request request{req.method_string(), req.target(),
                            auth == req.end() ? std::string_view{} : std::string_view(auth->value()), req.body()};
      auto res = co_await route(options, metrics, ready, extra, request);
      auto out = to_beast(std::move(res), req.version(), req.method() == bhttp::verb::head);
      out.keep_alive(req.keep_alive() && !stopped);
      s->stream.expires_after(options.read_timeout);
      auto [wec, wn] = co_await bhttp::async_write(s->stream, out, kUseTuple);
      if (wec || !out.keep_alive()) break;
    }
    boost::system::error_code ignored;
    s->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    s->stream.close();
  }

  // Answers a request that could not be read, then closes: its remaining bytes cannot be framed.
  asio::awaitable<void> reject(Session& s, unsigned status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    auto out = to_beast(std::move(r), 11, false);
    out.keep_alive(false);
    s.stream.expires_after(options.read_timeout);
    auto [ec, n] = co_await bhttp::async_write(s.stream, out, kUseTuple);
    if (!ec) {
      s.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      s.stream.expires_after(kLingerTimeout);
      std::array<char, 4096> discard{};
      std::size_t drained = 0;
      while (!ec && drained < kLingerBytes && !stopped) {
        auto [rec, got] = co_await s.stream.async_read_some(asio::buffer(discard), kUseTuple);
        ec = rec;
        drained += got;
      }
    }
    s.stream.close();
  }
};

Server::Server(asio::any_io_executor ex, ServerOptions options, MetricsRenderer metrics, ReadinessProbe ready,
               Handler extra)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(options), std::move(metrics), std::move(ready),
                                   std::move(extra))) {
  impl_->bind();
}

Server::~Server() { stop(); }

void Server::start() {
  asio::dispatch(impl_->strand, [impl = impl_] {
    if (impl->started || impl->stopped) return;
    impl->started = true;
    asio::co_spawn(impl->strand, impl->accept_loop(),
                   [impl](std::exception_ptr e) { log_failure("http accept loop failed", e); });
  });
}

void Server::stop() noexcept {
  try {
    asio::dispatch(impl_->strand, [impl = impl_] { impl->shutdown(); });
  } catch (...) {
    // Only allocation can throw here; the destructor must not.
  }
}

unsigned short Server::port() const noexcept { return impl_->port; }

}  // namespace bbmd::http

// The admin API's routing: which path and method map to which read or action, bearer checks,
// JSON answers, and a deadline on every database round trip.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <exception>
#include <nlohmann/json.hpp>
#include <variant>

#include "bbm/report/status_render.hpp"
#include "bbm/store/operator_verbs.hpp"
#include "db/pool.hpp"
#include "http/admin.hpp"

namespace bbmd::http {
namespace {

namespace asio = boost::asio;
using asio::awaitable;

constexpr std::string_view kCollection = "/api/v1/migrations";
constexpr const char* kJson = "application/json";
constexpr const char* kHtml = "text/html; charset=utf-8";

using DbWork = std::function<awaitable<Response>(db::Connection&)>;

Response json(unsigned status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.content_type = kJson;
  r.body = body.dump(2) + "\n";
  // Progress changes by the second; a cached answer would mislead.
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response error(unsigned status, const std::string& message) {
  auto r = json(status, nlohmann::json{{"error", message}});
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"bbmd\"");
  return r;
}

Response not_allowed(const char* allow) {
  auto r = error(405, "method not allowed");
  r.allow = allow;
  return r;
}

bool is_get(std::string_view m) { return m == "GET" || m == "HEAD"; }

std::optional<std::int64_t> parse_id(std::string_view text) {
  std::int64_t id = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, id);
  if (text.empty() || ec != std::errc() || ptr != end || id <= 0) return std::nullopt;
  return id;
}

std::optional<Action> parse_action(std::string_view word) {
  if (word == "pause") return Action::pause;
  if (word == "resume") return Action::resume;
  if (word == "retry") return Action::retry;
  return std::nullopt;
}

const char* wrong_state_text(Action a) {
  switch (a) {
    case Action::pause: return "only an active or running migration can be paused";
    case Action::resume: return "only a paused migration can be resumed";
    case Action::retry: return "only a failed migration can be retried";
  }
  return "";
}

awaitable<Response> run_db(std::shared_ptr<db::Pool> pool, DbWork work) {
  auto conn = co_await pool->acquire();
  co_return co_await work(*conn);
}

// Runs `work` on a pooled connection within the deadline; a cancelled query marks its
// connection broken, so the pool drops it instead of reusing a half-read one.
awaitable<Response> with_db(std::shared_ptr<db::Pool> pool, std::chrono::milliseconds timeout, DbWork work) {
  using namespace asio::experimental::awaitable_operators;
  std::string failure;
  try {
    asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
    auto result = co_await (run_db(std::move(pool), std::move(work)) || timer.async_wait(asio::use_awaitable));
    if (result.index() == 0) co_return std::get<0>(std::move(result));
    failure = "the database did not answer in time";
  } catch (const std::exception& e) {
    failure = std::string("database error: ") + e.what();
  }
  co_return error(503, failure);
}

awaitable<Response> list(db::Connection& conn) {
  const auto all = co_await bbm::progress_all(conn);
  auto items = nlohmann::json::array();
  for (const auto& p : all) items.push_back(bbm::progress_json(p));
  co_return json(200, nlohmann::json{{"migrations", items}});
}

awaitable<Response> one(db::Connection& conn, std::int64_t id) {
  // Each co_await in its own statement: GCC 12 miscompiles some co_await operands nested in expressions.
  const bool found = co_await bbm::exists(conn, bbm::Selection::with_id(id));
  if (!found) co_return error(404, "no migration with id " + std::to_string(id));
  const auto p = co_await bbm::progress_of(conn, id);
  co_return json(200, bbm::progress_json(p));
}

awaitable<Response> act(db::Connection& conn, Action action, std::int64_t id) {
  const auto result = co_await apply_action(conn, action, id);
  if (result == ActionResult::unknown_id) co_return error(404, "no migration with id " + std::to_string(id));
  if (result == ActionResult::wrong_state) co_return error(409, wrong_state_text(action));
  const auto p = co_await bbm::progress_of(conn, id);
  co_return json(200, bbm::progress_json(p));
}

awaitable<Response> page(db::Connection& conn, int refresh_seconds) {
  Response r;
  r.content_type = kHtml;
  const auto all = co_await bbm::progress_all(conn);
  r.body = render_status_page(all, refresh_seconds);
  r.headers.emplace_back("Cache-Control", "no-store");
  co_return r;
}

class Admin {
 public:
  Admin(std::shared_ptr<db::Pool> pool, AdminOptions options) : pool_(std::move(pool)), options_(std::move(options)) {}

  awaitable<std::optional<Response>> operator()(const Request& req) const {
    const auto path = req.target.substr(0, req.target.find('?'));
    if (path == "/") {
      if (!is_get(req.method)) co_return not_allowed("GET, HEAD");
      const int refresh = options_.refresh_seconds;
      DbWork work = [refresh](db::Connection& c) { return page(c, refresh); };
      co_return co_await with_db(pool_, options_.db_timeout, std::move(work));
    }
    if (path == kCollection) {
      if (!is_get(req.method)) co_return not_allowed("GET, HEAD");
      DbWork work = [](db::Connection& c) { return list(c); };
      co_return co_await with_db(pool_, options_.db_timeout, std::move(work));
    }
    if (!path.starts_with(std::string(kCollection) + "/")) co_return std::nullopt;
    co_return co_await item(req, path.substr(kCollection.size() + 1));
  }

 private:
  // `rest` is "{id}" or "{id}/{action}".
  awaitable<Response> item(const Request& req, std::string_view rest) const {
    const auto slash = rest.find('/');
    const auto id = parse_id(rest.substr(0, slash));
    if (slash == std::string_view::npos) {
      if (!id) co_return error(404, "no such migration");
      if (!is_get(req.method)) co_return not_allowed("GET, HEAD");
      const auto mid = *id;
      DbWork work = [mid](db::Connection& c) { return one(c, mid); };
      co_return co_await with_db(pool_, options_.db_timeout, std::move(work));
    }
    const auto action = parse_action(rest.substr(slash + 1));
    if (!id || !action) co_return error(404, "not found");
    if (req.method != "POST") co_return not_allowed("POST");
    // Authentication before the id is looked up, so unauthenticated clients cannot probe ids.
    if (const auto denied = check_bearer(req.authorization, options_.token)) {
      co_return error(denied, denied == 401 ? "a bearer token is required"
                              : options_.token.empty() ? "the admin API is disabled (http.debug.admin.token is empty)"
                                                       : "wrong bearer token");
    }
    const auto mid = *id;
    const auto act_on = *action;
    DbWork work = [mid, act_on](db::Connection& c) { return act(c, act_on, mid); };
    co_return co_await with_db(pool_, options_.db_timeout, std::move(work));
  }

  std::shared_ptr<db::Pool> pool_;
  AdminOptions options_;
};

}  // namespace

Handler admin_handler(std::shared_ptr<db::Pool> pool, AdminOptions options) {
  auto admin = std::make_shared<Admin>(std::move(pool), std::move(options));
  // The shared_ptr keeps the Admin alive for as long as any request coroutine runs.
  return [admin](const Request& req) -> awaitable<std::optional<Response>> { return (*admin)(req); };
}

}  // namespace bbmd::http

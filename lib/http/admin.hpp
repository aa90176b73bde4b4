#pragma once
// The bbm-aware routes of the debug listener: the admin API under /api/v1/migrations and the
// status page at "/". Plugged into http::Server as its Handler, so the listener itself stays
// free of bbm and database knowledge.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bbm/report/progress.hpp"
#include "http/server.hpp"

namespace bbmd::db {
class Pool;
class Connection;
}  // namespace bbmd::db

namespace bbmd::http {

struct AdminOptions {
  std::string token;  // bearer token for the POST endpoints; empty disables them (403)
  std::chrono::milliseconds db_timeout{5000};  // a stuck database answers 503, not never
  int refresh_seconds = 5;                     // the status page reloads itself this often
};

[[nodiscard]] Handler admin_handler(std::shared_ptr<db::Pool> pool, AdminOptions options);

// 0 when `authorization` carries `token` as a bearer token; else the status to answer:
// 403 when no token is configured (admin disabled) or the token is wrong, 401 when absent.
[[nodiscard]] unsigned check_bearer(std::string_view authorization, std::string_view token);

// The status page's HTML for these migrations (pure, so it is testable without a database).
[[nodiscard]] std::string render_status_page(const std::vector<bbm::Progress>& migrations, int refresh_seconds);

// What an admin action did to a migration.
enum class ActionResult { changed, unknown_id, wrong_state };
enum class Action { pause, resume, retry };
// pause: active/running -> paused; resume: paused -> active; retry: failed -> active with the
// failure cleared and the failed jobs' attempts reset, in one transaction.
[[nodiscard]] boost::asio::awaitable<ActionResult> apply_action(db::Connection& conn, Action action,
                                                                std::int64_t id);

}  // namespace bbmd::http

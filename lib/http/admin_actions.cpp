// The admin API's state changes on one migration: pause, resume and retry, by id, through the
// same operator verbs as the CLI.
#include <boost/asio/awaitable.hpp>

#include "bbm/store/operator_verbs.hpp"
#include "http/admin.hpp"

namespace bbmd::http {

boost::asio::awaitable<ActionResult> apply_action(db::Connection& conn, Action action, std::int64_t id) {
  const auto which = bbm::Selection::with_id(id);
  const std::vector<bbm::MigrationStatus> failed{bbm::MigrationStatus::failed};
  std::int64_t changed = 0;
  switch (action) {
    case Action::pause: changed = co_await bbm::pause(conn, which); break;
    case Action::resume: changed = co_await bbm::resume(conn, which); break;
    case Action::retry: changed = co_await bbm::retry(conn, which, failed); break;
  }
  if (changed > 0) co_return ActionResult::changed;
  const bool found = co_await bbm::exists(conn, which);
  co_return found ? ActionResult::wrong_state : ActionResult::unknown_id;
}

}  // namespace bbmd::http

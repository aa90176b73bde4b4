#pragma once
// `migrate up` and `migrate retry`: applies planned migrations in order while guarding upgrades
// with required BBMs (stop before a migration whose BBM has not finished) and required stops
// (do not go past a stop until every BBM queued up to it has finished). On a fresh database
// those BBMs are run inline instead, so a new installation completes in one command.
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <vector>

#include "schema/migration_set.hpp"
#include "schema/plan.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::schema {

struct UpHooks {
  // Runs the named BBMs to their end; returns the ones that could not finish, with why.
  std::function<boost::asio::awaitable<std::vector<std::string>>(db::Connection&, const std::vector<std::string>&)>
      run_bbms;
  std::function<void(const Known&, double seconds)> on_applied;  // metrics, output
  std::function<void(const Known&)> on_start;
  std::string config_path;  // for the commands the messages suggest
};

enum class UpOutcome { done, blocked, failed };

struct UpResult {
  UpOutcome outcome = UpOutcome::done;
  std::vector<const Known*> applied;
  std::vector<std::string> bbms_run;  // run inline on a fresh database
  std::string message;                // why it stopped (blocked / failed)
};

boost::asio::awaitable<UpResult> run_up(db::Connection& conn, const MigrationSet& migrations, const UpPlan& plan,
                                        const UpHooks& hooks);

// Reruns one failed post-deployment migration (after its checks). Same outcomes as run_up.
boost::asio::awaitable<UpResult> run_retry(db::Connection& conn, const MigrationSet& migrations, const Known& migration,
                                           const UpHooks& hooks);

}  // namespace bbmd::schema

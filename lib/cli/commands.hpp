#pragma once
// The CLI's command handlers; each returns a process exit code (cli/exit_codes.hpp).
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace bbmd::cli {

int serve(const config::Config& cfg);

int background_status(const config::Config& cfg, bool json);
int background_pause(const config::Config& cfg, const std::string& name);
int background_resume(const config::Config& cfg, const std::string& name);
// The attempts per job `background-migrate run` gives without --max-job-retry: the registry's 2.
inline constexpr int kRunMaxJobRetryDefault = 2;
int background_run(const config::Config& cfg, int max_job_retry);

// Flags of the `database migrate` subcommands (each uses the ones it declares in verbs.cpp).
struct MigrateArgs {
  bool skip_post = false;          // up, status: -s/--skip-post-deployment, or SKIP_POST_DEPLOYMENT_MIGRATIONS
  std::optional<int> limit_pre;    // up --limit-pre
  std::optional<int> limit_post;   // up --limit-post
  std::optional<int> limit;        // -n/--limit: up, the registry's pre-deployment limit; down, every kind
  std::optional<int> post_deploy_limit;  // -p/--post-deploy-limit (up, down)
  bool dry_run = false;            // -d/--dry-run
  bool force = false;              // down -f/--force: no confirmation prompt
  bool json = false;
  bool pending_exit_code = false;  // status: exit 1 when anything is pending
  bool up_to_date = false;         // status -u/--up-to-date: print only true or false
  std::string reason;              // mark-applied --reason
  bool post_deployment = false;    // new --post-deployment
};

int database_migrate_up(const config::Config& cfg, const MigrateArgs& args);
int database_migrate_down(const config::Config& cfg, const MigrateArgs& args);
int database_migrate_retry(const config::Config& cfg, const std::string& version);
int database_migrate_mark_applied(const config::Config& cfg, const std::string& version, const MigrateArgs& args);
int database_migrate_status(const config::Config& cfg, const MigrateArgs& args);
int database_migrate_version(const config::Config& cfg);
int database_migrate_new(const config::Config& cfg, const std::string& name, const MigrateArgs& args);
// Directories, or one config file whose pre and post directories are linted.
int database_migrate_lint(const std::vector<std::string>& paths);

// Validates a config file and prints the effective settings, secrets masked.
int config_check(const std::string& path);

// Parses argv and dispatches; never throws.
int main(int argc, char** argv);

}  // namespace bbmd::cli

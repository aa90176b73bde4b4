// The command line: CLI11 subcommands, config loading, and the mapping of errors to exit codes.
#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdlib>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "config/loader.hpp"
#include "db/error.hpp"
#include "log/log.hpp"
#include "version.hpp"

namespace bbmd::cli {

namespace {

struct Arguments {
  std::vector<std::string> positionals;  // [name] <config>: the config file comes last
  bool json = false;
  int max_job_retry = 0;
  MigrateArgs migrate;
};

config::Config load(const std::string& path) {
  auto cfg = config::load_file(path);
  log::setup(cfg.log.level, cfg.log.formatter);
  return cfg;
}

// Subcommands whose only positional is the config file.
CLI::App* with_config(CLI::App& parent, const char* name, const char* help, Arguments& args) {
  auto* cmd = parent.add_subcommand(name, help);
  cmd->add_option("config", args.positionals, "path to the YAML config file")->required()->expected(1);
  return cmd;
}

// Subcommands that take an optional migration name before the config file.
CLI::App* with_name_and_config(CLI::App& parent, const char* name, const char* help, Arguments& args) {
  auto* cmd = parent.add_subcommand(name, help);
  cmd->add_option("args", args.positionals, "[migration name] <config>: the config file comes last")
      ->required()
      ->expected(1, 2);
  return cmd;
}

// Subcommands that take one required word (a version or a name) before the config file.
CLI::App* with_word_and_config(CLI::App& parent, const char* name, const char* help, const char* word,
                               Arguments& args) {
  auto* cmd = parent.add_subcommand(name, help);
  cmd->add_option("args", args.positionals, std::string("<") + word + "> <config>: the config file comes last")
      ->required()
      ->expected(2);
  return cmd;
}

// SKIP_POST_DEPLOYMENT_MIGRATIONS: "any true value", as the registry reads it (strconv.ParseBool).
bool env_true(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return false;
  std::string s(v);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "1" || s == "t" || s == "true" || s == "y" || s == "yes" || s == "on";
}

void add_migrate(CLI::App& db, Arguments& args) {
  auto& m = args.migrate;
  auto* migrate = db.add_subcommand("migrate", "schema migrations: bbmd's own, then pre- and post-deployment ones");
  migrate->require_subcommand(1);
  auto* up = with_config(*migrate, "up", "apply pending migrations: bbmd's own, pre-deployment, then post-deployment",
                         args);
  up->add_flag("--skip-post-deployment", m.skip_post,
               "apply only pre-deployment migrations (also SKIP_POST_DEPLOYMENT_MIGRATIONS=true)");
  up->add_option("--limit-pre", m.limit_pre, "apply at most N pre-deployment migrations")->check(CLI::NonNegativeNumber);
  up->add_option("--limit-post", m.limit_post, "apply at most N post-deployment migrations")
      ->check(CLI::NonNegativeNumber);
  up->add_flag("--dry-run", m.dry_run, "print the plan and change nothing");
  auto* down = with_config(*migrate, "down", "revert the newest applied migrations (post-deployment first)", args);
  down->add_option("--limit", m.limit, "revert at most N migrations (default: all)")->check(CLI::PositiveNumber);
  down->add_flag("--force", m.force, "do not ask for confirmation");
  down->add_flag("--dry-run", m.dry_run, "print what would be reverted and change nothing");
  auto* status = with_config(*migrate, "status", "every migration with its kind and state", args);
  status->add_flag("--json", m.json, "machine-readable output");
  status->add_flag("--pending-exit-code", m.pending_exit_code, "exit 1 when any migration is pending or failed");
  with_config(*migrate, "version", "the newest applied migration of each kind", args);
  migrate->add_subcommand("lint", "check migration directories (or a config's pre and post directories)")
      ->add_option("paths", args.positionals, "<dir>... or <config>")
      ->required();
  with_word_and_config(*migrate, "retry", "rerun a failed post-deployment migration", "version", args);
  with_word_and_config(*migrate, "mark-applied", "record a migration as applied without running it", "version", args)
      ->add_option("--reason", m.reason, "why it does not need to run (kept in the record)")
      ->required();
  with_word_and_config(*migrate, "new", "write a timestamped up/down pair to fill in", "name", args)
      ->add_flag("--post-deployment", m.post_deployment, "write it to the post-deployment directory");
}

int dispatch_migrate(CLI::App& migrate, Arguments& args) {
  const std::string config_path = args.positionals.back();
  const std::string word = args.positionals.front();
  auto& m = args.migrate;
  if (migrate.got_subcommand("lint")) return database_migrate_lint(args.positionals);
  if (migrate.got_subcommand("up")) {
    m.skip_post = m.skip_post || env_true("SKIP_POST_DEPLOYMENT_MIGRATIONS");
    return database_migrate_up(load(config_path), m);
  }
  if (migrate.got_subcommand("down")) return database_migrate_down(load(config_path), m);
  if (migrate.got_subcommand("status")) return database_migrate_status(load(config_path), m);
  if (migrate.got_subcommand("version")) return database_migrate_version(load(config_path));
  if (migrate.got_subcommand("retry")) return database_migrate_retry(load(config_path), word);
  if (migrate.got_subcommand("mark-applied")) return database_migrate_mark_applied(load(config_path), word, m);
  return database_migrate_new(load(config_path), word, m);
}

int dispatch(CLI::App& app, Arguments& args) {
  auto* bg = app.get_subcommand("background-migrate");
  const std::string config_path = args.positionals.empty() ? "" : args.positionals.back();
  const std::string name = args.positionals.size() == 2 ? args.positionals.front() : "";
  if (app.got_subcommand("version")) {
    std::cout << "bbmd " << kVersion << "\n";
    return kExitOk;
  }
  if (app.got_subcommand("serve")) return serve(load(config_path));
  if (bg->got_subcommand("status")) return background_status(load(config_path), args.json);
  if (bg->got_subcommand("pause")) return background_pause(load(config_path), name);
  if (bg->got_subcommand("resume")) return background_resume(load(config_path), name);
  if (bg->got_subcommand("run")) {
    std::optional<int> retries;
    if (args.max_job_retry > 0) retries = args.max_job_retry;
    return background_run(load(config_path), retries);
  }
  return dispatch_migrate(*app.get_subcommand("database")->get_subcommand("migrate"), args);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bbmd: batched background migrations for PostgreSQL", "bbmd"};
  app.require_subcommand(1);
  Arguments args;
  app.add_subcommand("version", "print the version");
  with_config(app, "serve", "run the worker daemon with metrics and health endpoints", args);
  auto* bg = app.add_subcommand("background-migrate", "inspect and control batched background migrations");
  bg->require_subcommand(1);
  with_config(*bg, "status", "show every migration's progress", args)
      ->add_flag("--json", args.json, "machine-readable output");
  with_name_and_config(*bg, "pause", "pause active and running migrations (or only the named one)", args);
  with_name_and_config(*bg, "resume", "resume paused migrations (or only the named one)", args);
  with_config(*bg, "run", "run every unfinished migration to its end in the foreground", args)
      ->add_option("--max-job-retry", args.max_job_retry, "attempts per job before the migration fails")
      ->check(CLI::Range(1, 1000));
  auto* db = app.add_subcommand("database", "schema migrations");
  db->require_subcommand(1);
  add_migrate(*db, args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports a mistyped command word only as a missing subcommand: name the word too.
    const auto unparsed = app.remaining(true);
    if (dynamic_cast<const CLI::RequiredError*>(&e) && !unparsed.empty()) {
      std::cerr << "bbmd: unknown command or argument '" << unparsed.front() << "'\n";
    }
    app.exit(e);
    return kExitUsage;
  }
  try {
    return dispatch(app, args);
  } catch (const config::ConfigError& e) {
    std::cerr << "bbmd: " << e.what() << "\n";
    return kExitUsage;
  } catch (const db::Error& e) {
    std::cerr << "bbmd: database error: " << e.what() << "\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "bbmd: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace bbmd::cli

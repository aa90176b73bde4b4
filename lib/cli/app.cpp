// The command line: CLI11 subcommands, config loading, and the mapping of errors to exit codes.
#include <CLI/CLI.hpp>
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

int dispatch(CLI::App& app, const Arguments& args) {
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
  return database_migrate_up(load(config_path));
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
  auto* migrate = db->add_subcommand("migrate", "apply schema migrations");
  migrate->require_subcommand(1);
  with_config(*migrate, "up", "apply pending migrations (bbmd's own schema first)", args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
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

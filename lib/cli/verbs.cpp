// The verb table: every command bbmd has, with its flags and the handler it runs (verbs.hpp).
#include "cli/verbs.hpp"

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdlib>
#include <iostream>

#include "cli/exit_codes.hpp"
#include "config/loader.hpp"
#include "log/log.hpp"
#include "version.hpp"

namespace bbmd::cli {

namespace {

constexpr const char* kExampleConfig = "/etc/docker/registry/config.yml";

std::string example(const std::string& line) { return "bbmd " + line; }

config::Config load(const Invocation& in) {
  auto cfg = config::load_file(in.config);
  log::setup(cfg.log.level, cfg.log.formatter);
  log::set_fields(nlohmann::json(cfg.log.fields));
  return cfg;
}

// SKIP_POST_DEPLOYMENT_MIGRATIONS: "any true value", as the registry reads it (strconv.ParseBool).
bool env_true(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return false;
  std::string s(v);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "1" || s == "t" || s == "true" || s == "y" || s == "yes" || s == "on";
}

// The registry's flags keep their short forms; bbmd's own long ones keep working beside them.
void up_flags(CLI::App& cmd, Flags& f) {
  auto& m = f.migrate;
  cmd.add_flag("-s,--skip-post-deployment", m.skip_post,
               "apply only pre-deployment migrations (also SKIP_POST_DEPLOYMENT_MIGRATIONS=true)");
  auto* limit = cmd.add_option("-n,--limit", m.limit,
                               "apply at most N pre-deployment migrations (0: all) and, without -p, no "
                               "post-deployment ones, as the registry does")
                    ->check(CLI::NonNegativeNumber);
  auto* post = cmd.add_option("-p,--post-deploy-limit", m.post_deploy_limit,
                              "apply at most N post-deployment migrations (0: all), after every pending "
                              "pre-deployment one")
                   ->check(CLI::NonNegativeNumber);
  auto* limit_pre = cmd.add_option("--limit-pre", m.limit_pre, "apply at most N pre-deployment migrations")
                        ->check(CLI::NonNegativeNumber);
  auto* limit_post = cmd.add_option("--limit-post", m.limit_post, "apply at most N post-deployment migrations")
                         ->check(CLI::NonNegativeNumber);
  for (auto* registry : {limit, post}) registry->excludes(limit_pre)->excludes(limit_post);
  cmd.add_flag("-d,--dry-run", m.dry_run, "print the plan and change nothing");
}

void down_flags(CLI::App& cmd, Flags& f) {
  auto& m = f.migrate;
  cmd.add_option("-n,--limit", m.limit, "revert at most N migrations of any kind (default: all)")
      ->check(CLI::PositiveNumber);
  cmd.add_option("-p,--post-deploy-limit", m.post_deploy_limit,
                 "revert at most N post-deployment migrations (0: all) and, without -n, nothing else")
      ->check(CLI::NonNegativeNumber);
  cmd.add_flag("-f,--force", m.force, "do not ask for confirmation");
  cmd.add_flag("-d,--dry-run", m.dry_run, "print what would be reverted and change nothing");
}

void status_flags(CLI::App& cmd, Flags& f) {
  auto& m = f.migrate;
  cmd.add_flag("-s,--skip-post-deployment", m.skip_post,
               "leave post-deployment migrations out (also SKIP_POST_DEPLOYMENT_MIGRATIONS=true)");
  cmd.add_flag("-u,--up-to-date", m.up_to_date, "print only true (nothing pending) or false");
  cmd.add_flag("--json", m.json, "machine-readable output");
  cmd.add_flag("--pending-exit-code", m.pending_exit_code, "exit 1 when any migration is pending or failed");
}

// SKIP_POST_DEPLOYMENT_MIGRATIONS counts as -s wherever -s exists, as the registry binds it.
MigrateArgs with_skip_env(MigrateArgs args) {
  args.skip_post = args.skip_post || env_true("SKIP_POST_DEPLOYMENT_MIGRATIONS");
  return args;
}

std::vector<Verb> build_verbs() {
  using P = Positionals;
  const std::string cfg = kExampleConfig;
  return {
      {{"version"}, "print the version", P::none, "", example("version"), {},
       [](const Invocation&) {
         std::cout << "bbmd " << kVersion << "\n";
         return kExitOk;
       }},
      {{"serve"}, "run the worker daemon with metrics and health endpoints", P::config, "",
       example("serve " + cfg), {}, [](const Invocation& in) { return serve(load(in)); }},
      {{"background-migrate", "status"}, "show every migration's progress", P::config, "",
       example("background-migrate status --json " + cfg),
       [](CLI::App& cmd, Flags& f) { cmd.add_flag("--json", f.json, "machine-readable output"); },
       [](const Invocation& in) { return background_status(load(in), in.flags.json); }},
      {{"background-migrate", "pause"}, "pause active and running migrations (or only the named one)",
       P::name_config, "name", example("background-migrate pause " + cfg), {},
       [](const Invocation& in) { return background_pause(load(in), in.word); }},
      {{"background-migrate", "resume"}, "resume paused migrations (or only the named one)", P::name_config, "name",
       example("background-migrate resume 20260101000001_copy_quantity_to_bigint " + cfg), {},
       [](const Invocation& in) { return background_resume(load(in), in.word); }},
      {{"background-migrate", "run"}, "run every unfinished migration to its end in the foreground", P::config, "",
       example("background-migrate run --max-job-retry 3 " + cfg),
       [](CLI::App& cmd, Flags& f) {
         cmd.add_option("-r,--max-job-retry", f.max_job_retry,
                        "attempts per job before the migration fails (1 to 10, default 2, as the registry's)")
             ->check(CLI::Range(1, 10));
       },
       [](const Invocation& in) {
         return background_run(load(in), in.flags.max_job_retry.value_or(kRunMaxJobRetryDefault));
       }},
      {{"database", "migrate", "up"}, "apply pending migrations: bbmd's own, pre-deployment, then post-deployment",
       P::config, "", example("database migrate up -s " + cfg), up_flags,
       [](const Invocation& in) { return database_migrate_up(load(in), with_skip_env(in.flags.migrate)); }},
      {{"database", "migrate", "down"}, "revert the newest applied migrations (post-deployment first)", P::config, "",
       example("database migrate down -n 1 " + cfg), down_flags,
       [](const Invocation& in) { return database_migrate_down(load(in), in.flags.migrate); }},
      {{"database", "migrate", "status"}, "every migration with its kind and state", P::config, "",
       example("database migrate status -u " + cfg), status_flags,
       [](const Invocation& in) { return database_migrate_status(load(in), with_skip_env(in.flags.migrate)); }},
      {{"database", "migrate", "version"}, "the newest applied migration of each kind", P::config, "",
       example("database migrate version " + cfg), {},
       [](const Invocation& in) { return database_migrate_version(load(in)); }},
      {{"database", "migrate", "lint"}, "check migration folders (or a config's pre and post folders)",
       P::paths_or_config, "", example("database migrate lint migrations/pre migrations/post"), {},
       [](const Invocation& in) { return database_migrate_lint(in.paths); }},
      {{"database", "migrate", "retry"}, "rerun a failed post-deployment migration", P::word_config, "version",
       example("database migrate retry 20260301000000 " + cfg), {},
       [](const Invocation& in) { return database_migrate_retry(load(in), in.word); }},
      {{"database", "migrate", "mark-applied"}, "record a migration as applied without running it", P::word_config,
       "version", example("database migrate mark-applied 20260301000000 --reason \"made a no-op\" " + cfg),
       [](CLI::App& cmd, Flags& f) {
         cmd.add_option("--reason", f.migrate.reason, "why it does not need to run (kept in the record)")
             ->required();
       },
       [](const Invocation& in) { return database_migrate_mark_applied(load(in), in.word, in.flags.migrate); }},
      {{"database", "migrate", "new"}, "write a timestamped up/down pair to fill in", P::word_config, "name",
       example("database migrate new add_index_on_blobs --post-deployment " + cfg),
       [](CLI::App& cmd, Flags& f) {
         cmd.add_flag("--post-deployment", f.migrate.post_deployment, "write it to the post-deployment folder");
       },
       [](const Invocation& in) { return database_migrate_new(load(in), in.word, in.flags.migrate); }},
      {{"config", "check"}, "validate a config file and print the settings bbmd runs with, secrets masked",
       P::config, "", example("config check " + cfg), {},
       [](const Invocation& in) { return config_check(in.config); }},
  };
}

}  // namespace

const std::vector<Group>& groups() {
  static const std::vector<Group> table = {
      {{"background-migrate"}, "inspect and control batched background migrations"},
      {{"database"}, "schema migrations"},
      {{"database", "migrate"}, "schema migrations: bbmd's own, then pre- and post-deployment ones"},
      {{"config"}, "config files"},
  };
  return table;
}

const std::vector<Verb>& verbs() {
  static const std::vector<Verb> table = build_verbs();
  return table;
}

}  // namespace bbmd::cli

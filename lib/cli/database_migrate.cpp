// `bbmd database migrate up|down|retry|mark-applied`: the commands that change the schema.
// Each takes the schema migration lock and prints what it will do before doing it.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <stdexcept>

#include "bbm/run/sync_worker.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/options.hpp"
#include "cli/runtime.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"
#include "schema/migration_lock.hpp"
#include "schema/migrator.hpp"
#include "schema/plan.hpp"
#include "schema/records.hpp"
#include "schema/upgrade.hpp"

namespace bbmd::cli {

namespace {

using boost::asio::awaitable;

schema::MigrationSet catalog_of(const config::Config& cfg) {
  return schema::load_migration_set(cfg.migrations.pre, cfg.migrations.post);
}

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string seconds_text(std::chrono::steady_clock::time_point start) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return buf;
}

// Hooks shared by up and retry: the lock's check before each migration, inline BBM runs,
// metrics and progress output.
schema::UpHooks hooks_for(const config::Config& cfg, metrics::Metrics& metrics, const bbm::WorkRegistry& registry,
                          schema::MigrationLock& lock) {
  schema::UpHooks hooks;
  hooks.config_path = cfg.source.string();
  hooks.on_start = [&lock](const schema::Known& k) {
    lock.ensure_held("migration " + k.version());
    std::cout << "applying " << schema::kind_name(k.kind) << " " << k.version() << std::endl;
  };
  hooks.on_applied = [&metrics](const schema::Known& k, double) {
    metrics.schema_migration_applied(schema::metric_type(k.kind));
  };
  hooks.run_bbms = [&cfg, &metrics, &registry](db::Connection& conn,
                                               const std::vector<std::string>& names) -> awaitable<std::vector<std::string>> {
    bbm::SyncWorker worker(registry, metrics, runner_options(cfg, "migrate"),
                           [](const std::string& line) { std::cout << "  " << line << std::endl; });
    const auto report = co_await worker.run_named(conn, names);
    std::vector<std::string> problems;
    for (const auto& item : report.items) {
      if (!item.finished) problems.push_back(item.name + ": " + item.problem);
    }
    co_return problems;
  };
  return hooks;
}

// Applied migrations by kind; bbmd's own count as pre-deployment ones.
struct AppliedCounts {
  std::size_t pre = 0;
  std::size_t post = 0;
};

AppliedCounts applied_counts(const schema::UpResult& r) {
  AppliedCounts c;
  for (const auto* k : r.applied) ++(schema::is_post(k->kind) ? c.post : c.pre);
  return c;
}

std::string summary(const schema::UpResult& r, const schema::UpPlan& plan, std::chrono::steady_clock::time_point start) {
  const auto [pre, post] = applied_counts(r);
  std::string s = "applied " + plural(pre, "pre-deployment migration") + " and " +
                  plural(post, "post-deployment migration");
  if (!plan.skipped_post.empty()) s += "; skipped " + plural(plan.skipped_post.size(), "post-deployment migration");
  if (!plan.over_limit.empty()) s += "; " + std::to_string(plan.over_limit.size()) + " left by the limits";
  s += "; BBMs run inline: ";
  if (r.bbms_run.empty()) s += "none";
  for (std::size_t i = 0; i < r.bbms_run.size(); ++i) s += (i ? ", " : "") + r.bbms_run[i];
  return s + "; elapsed " + seconds_text(start) + "\n";
}

// The registry's last line of a successful `up`, which its pipelines read.
std::string ok_line(const schema::UpResult& r, std::chrono::steady_clock::time_point start) {
  const auto [pre, post] = applied_counts(r);
  char buf[192];
  std::snprintf(buf, sizeof buf,
                "OK: applied %zu pre-deployment migration(s), %zu post-deployment migration(s) and %zu background "
                "migration(s) in %.3fs\n",
                pre, post, r.bbms_run.size(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return buf;
}

// bbmd's --limit-pre/--limit-post as they are; the registry's -n/-p as the registry reads them:
// -n alone applies no post-deployment migration, 0 means "all", and given together both must be
// at least 1. -p alone still applies every pending pre-deployment migration first, as every
// other bbmd `up` does. Throws std::invalid_argument on the registry's refused combination.
schema::UpOptions up_options(const MigrateArgs& args) {
  schema::UpOptions o{args.skip_post, args.limit_pre, args.limit_post};
  const auto all_if_zero = [](int n) { return n == 0 ? std::nullopt : std::optional<int>(n); };
  if (args.limit && args.post_deploy_limit) {
    if (*args.limit < 1 || *args.post_deploy_limit < 1) {
      throw std::invalid_argument("both pre and post migration limits (-n, -p) must be at least 1");
    }
    o.limit_pre = args.limit;
    o.limit_post = args.post_deploy_limit;
  } else if (args.limit) {
    o.limit_pre = all_if_zero(*args.limit);
    o.limit_post = 0;
  } else if (args.post_deploy_limit) {
    o.limit_post = all_if_zero(*args.post_deploy_limit);
  }
  return o;
}

// What `down` reverts: newest first, post-deployment before the rest (schema::plan_down). With
// -p, at most that many post-deployment migrations (0: all) and, unless -n is given too, nothing
// else; -n caps the total.
std::vector<const schema::Known*> down_steps(const schema::MigrationSet& catalog, const schema::Records& records,
                                             const MigrateArgs& args) {
  if (!args.post_deploy_limit) return schema::plan_down(catalog, records, args.limit);
  std::vector<const schema::Known*> out;
  int posts = 0;
  for (const auto* k : schema::plan_down(catalog, records, std::nullopt)) {
    if (args.limit && static_cast<int>(out.size()) >= *args.limit) break;
    if (!schema::is_post(k->kind)) {
      if (args.limit) out.push_back(k);
    } else if (*args.post_deploy_limit == 0 || posts < *args.post_deploy_limit) {
      out.push_back(k);
      ++posts;
    }
  }
  return out;
}

int exit_for(const schema::UpResult& r) {
  if (r.outcome == schema::UpOutcome::done) return kExitOk;
  std::cerr << "bbmd: " << r.message << "\n";
  return r.outcome == schema::UpOutcome::blocked ? kExitBlocked : kExitFailure;
}

// Lock (on a connection of its own), make sure the record tables exist, run `body`, unlock.
int with_lock(const config::Config& cfg,
              std::function<awaitable<int>(db::Connection&, schema::MigrationLock&)> body) {
  return run_to_completion([&]() -> awaitable<int> {
    auto lock = co_await schema::MigrationLock::acquire(co_await connect(cfg, "bbmd-migrate-lock"));
    auto conn = co_await connect(cfg, "bbmd-migrate");
    co_await schema::ensure_records(*conn);
    const int code = co_await body(*conn, lock);
    co_await lock.release();
    co_return code;
  });
}

}  // namespace

int database_migrate_up(const config::Config& cfg, const MigrateArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  schema::UpOptions options;
  try {
    options = up_options(args);
  } catch (const std::invalid_argument& e) {
    std::cerr << "bbmd: " << e.what() << "\n";
    return kExitUsage;
  }
  const auto catalog = catalog_of(cfg);
  if (args.dry_run) {
    // Reads only: no lock, no record tables created.
    return run_to_completion([&]() -> awaitable<int> {
      auto conn = co_await connect(cfg, "bbmd-migrate");
      const auto records = co_await schema::read_records(*conn);
      std::cout << "dry run, nothing will be changed\n"
                << schema::render_up_plan(schema::plan_up(catalog, records, options), records);
      co_return kExitOk;
    });
  }
  metrics::Metrics metrics;
  const auto registry = bbm::WorkRegistry::with_sql_folder(cfg.backgroundmigrations.sqlfunctions);
  return with_lock(cfg, [&](db::Connection& conn, schema::MigrationLock& lock) -> awaitable<int> {
    const auto hooks = hooks_for(cfg, metrics, registry, lock);
    const auto records = co_await schema::read_records(conn);
    const auto plan = schema::plan_up(catalog, records, options);
    std::cout << schema::render_up_plan(plan, records) << std::flush;
    const auto result = co_await schema::run_up(conn, catalog, plan, hooks);
    std::cout << summary(result, plan, start);
    if (result.outcome == schema::UpOutcome::done) std::cout << ok_line(result, start);
    co_return exit_for(result);
  });
}

int database_migrate_retry(const config::Config& cfg, const std::string& version) {
  const auto catalog = catalog_of(cfg);
  const auto* m = catalog.find(version);
  if (!m) {
    std::cerr << "bbmd: this build has no migration " << version << "\n";
    return kExitFailure;
  }
  metrics::Metrics metrics;
  const auto registry = bbm::WorkRegistry::with_sql_folder(cfg.backgroundmigrations.sqlfunctions);
  return with_lock(cfg, [&](db::Connection& conn, schema::MigrationLock& lock) -> awaitable<int> {
    const auto hooks = hooks_for(cfg, metrics, registry, lock);
    const auto result = co_await schema::run_retry(conn, catalog, *m, hooks);
    if (result.outcome == schema::UpOutcome::done) std::cout << "retried " << version << ": applied\n";
    co_return exit_for(result);
  });
}

int database_migrate_mark_applied(const config::Config& cfg, const std::string& version, const MigrateArgs& args) {
  const auto catalog = catalog_of(cfg);
  const auto* m = catalog.find(version);
  if (!m) {
    std::cerr << "bbmd: this build has no migration " << version << "\n";
    return kExitFailure;
  }
  if (args.reason.find_first_not_of(" \t") == std::string::npos) {
    std::cerr << "bbmd: mark-applied needs --reason \"...\": the record is the only trace of why it never ran\n";
    return kExitUsage;
  }
  return with_lock(cfg, [&](db::Connection& conn, schema::MigrationLock& lock) -> awaitable<int> {
    const auto records = co_await schema::read_records(conn);
    lock.ensure_held("marking " + version);
    if (records.applied(version)) {
      std::cerr << "bbmd: " << version << " is already applied\n";
      co_return kExitFailure;
    }
    co_await schema::record_marked(conn, m->kind, version, args.reason);
    log::Logger("bbmd.migrate").warn("migration marked as applied without running it",
                                     {{"migration_version", version}, {log::kReason, args.reason}});
    std::cout << "marked " << version << " as applied (not run): " << args.reason << "\n";
    co_return kExitOk;
  });
}

int database_migrate_down(const config::Config& cfg, const MigrateArgs& args) {
  const auto catalog = catalog_of(cfg);
  return with_lock(cfg, [&](db::Connection& conn, schema::MigrationLock& lock) -> awaitable<int> {
    const auto records = co_await schema::read_records(conn);
    if (const auto unknown = schema::unknown_records(catalog, records); !unknown.empty()) {
      std::cerr << "bbmd: refusing to migrate down: the database holds migrations this build does not know "
                   "(run down with the build that applied them):\n";
      for (const auto* r : unknown) std::cerr << "  " << r->version << "\n";
      co_return kExitFailure;
    }
    const auto steps = down_steps(catalog, records, args);
    if (steps.empty()) {
      std::cout << "nothing to revert\n";
      co_return kExitOk;
    }
    std::cout << "will revert, in this order:\n";
    for (const auto* k : steps) std::cout << schema::describe_step(*k, records) << "\n";
    if (args.dry_run) co_return kExitOk;
    if (!args.force) {
      std::cout << "Revert " << plural(steps.size(), "migration") << "? Type 'yes' to continue: " << std::flush;
      std::string answer;
      if (!std::getline(std::cin, answer) || answer != "yes") {
        std::cerr << "bbmd: not confirmed; nothing reverted (use --force in scripts)\n";
        co_return kExitFailure;
      }
    }
    const log::Logger log("bbmd.migrate");
    for (const auto* k : steps) {
      std::string error;
      try {
        lock.ensure_held("reverting " + k->version());
        const double s = co_await schema::revert_one(conn, *k);
        log.info("migration reverted", {{"migration_version", k->version()}, {log::kDurationS, s}});
        std::cout << "reverted " << schema::kind_name(k->kind) << " " << k->version() << "\n";
      } catch (const schema::MigrationFailed& e) {
        error = e.what();
      }
      if (!error.empty()) {
        log.error("migration revert failed", {{"migration_version", k->version()}, {log::kError, error}});
        std::cerr << "bbmd: " << error << "\n";
        co_return kExitFailure;
      }
    }
    co_return kExitOk;
  });
}

}  // namespace bbmd::cli

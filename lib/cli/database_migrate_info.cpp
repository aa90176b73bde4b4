// `bbmd database migrate status|version|lint|new`: the read-only and authoring commands.
// None of them creates anything in the database.
#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/runtime.hpp"
#include "config/loader.hpp"
#include "schema/migration_set.hpp"
#include "schema/lint.hpp"
#include "schema/records.hpp"
#include "schema/scaffold.hpp"
#include "schema/migrate_status.hpp"

namespace bbmd::cli {

namespace {

using boost::asio::awaitable;

// Runs `render` over the catalog and the database's records.
int with_records(const config::Config& cfg, std::function<int(const schema::MigrationSet&, const schema::Records&)> render) {
  const auto catalog = schema::load_migration_set(cfg.migrations.pre, cfg.migrations.post);
  return run_to_completion([&]() -> awaitable<int> {
    auto conn = co_await connect(cfg, "bbmd-migrate");
    const auto records = co_await schema::read_records(*conn);
    co_return render(catalog, records);
  });
}

}  // namespace

// -s leaves post-deployment migrations out of the listing and of what counts as pending; -u
// prints only whether anything is pending, as the registry's `status -u` does for its pipelines.
int database_migrate_status(const config::Config& cfg, const MigrateArgs& args) {
  return with_records(cfg, [&](const schema::MigrationSet& catalog, const schema::Records& records) {
    const auto counts = schema::pending_counts(catalog, records);
    const int pending = counts.pre + (args.skip_post ? 0 : counts.post);
    if (args.up_to_date) {
      std::cout << (pending == 0 ? "true" : "false") << "\n";
      return kExitOk;
    }
    auto rows = schema::status_rows(catalog, records);
    if (args.skip_post) std::erase_if(rows, [](const schema::StatusRow& r) { return r.kind == "post"; });
    std::cout << (args.json ? schema::render_status_json(rows) : schema::render_status_table(rows));
    return args.pending_exit_code && pending > 0 ? kExitFailure : kExitOk;
  });
}

int database_migrate_version(const config::Config& cfg) {
  return with_records(cfg, [](const schema::MigrationSet&, const schema::Records& records) {
    std::cout << schema::render_version(records);
    return kExitOk;
  });
}

int database_migrate_new(const config::Config& cfg, const std::string& name, const MigrateArgs& args) {
  const auto& dir = args.post_deployment ? cfg.migrations.post : cfg.migrations.pre;
  const auto& other = args.post_deployment ? cfg.migrations.pre : cfg.migrations.post;
  try {
    const auto s = schema::scaffold_migration(dir, other, name, args.post_deployment);
    std::cout << "created " << s.up.string() << "\ncreated " << s.down.string() << "\n";
  } catch (const std::invalid_argument& e) {
    std::cerr << "bbmd: " << e.what() << "\n";
    return kExitUsage;
  }
  return kExitOk;
}

int database_migrate_lint(const std::vector<std::string>& paths) {
  std::vector<std::filesystem::path> dirs;
  if (paths.size() == 1 && std::filesystem::is_regular_file(paths.front())) {
    const auto cfg = config::load_file(paths.front());
    dirs = {cfg.migrations.pre, cfg.migrations.post};
  } else {
    dirs.assign(paths.begin(), paths.end());
  }
  const auto problems = schema::lint(dirs);
  for (const auto& p : problems) std::cout << p.file << ": " << p.check << ": " << p.message << "\n";
  std::cout << (problems.empty() ? "no problems found" : std::to_string(problems.size()) + " problem(s) found")
            << " in";
  for (const auto& d : dirs) std::cout << " " << d.string();
  std::cout << "\n";
  return problems.empty() ? kExitOk : kExitFailure;
}

}  // namespace bbmd::cli

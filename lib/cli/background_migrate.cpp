// `bbmd background-migrate status|pause|resume|run`.
#include <unistd.h>

#include <boost/asio/this_coro.hpp>
#include <iostream>

#include "bbm/report/progress.hpp"
#include "bbm/report/status_render.hpp"
#include "bbm/run/sync_worker.hpp"
#include "bbm/store/operator_verbs.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/options.hpp"
#include "cli/runtime.hpp"
#include "db/conninfo.hpp"
#include "db/pool.hpp"
#include "metrics/metrics.hpp"

namespace bbmd::cli {

namespace {

using boost::asio::awaitable;

// pause/resume share everything but the verb.
int flip(const config::Config& cfg, const std::string& name, bool pause) {
  return run_to_completion([&]() -> awaitable<int> {
    auto conn = co_await connect(cfg, "bbmd-cli");
    const auto which = name.empty() ? bbm::Selection::all() : bbm::Selection::named(name);
    bool exists = true;
    if (!name.empty()) exists = co_await bbm::exists(*conn, which);
    if (!exists) {
      std::cerr << "bbmd: no batched background migration named '" << name << "'\n";
      co_return kExitFailure;
    }
    std::int64_t changed = 0;
    if (pause) {
      changed = co_await bbm::pause(*conn, which);
    } else {
      changed = co_await bbm::resume(*conn, which);
    }
    std::cout << (pause ? "paused " : "resumed ") << changed << " batched background migration"
              << (changed == 1 ? "" : "s") << "\n";
    co_return kExitOk;
  });
}

}  // namespace

int background_status(const config::Config& cfg, bool json) {
  return run_to_completion([&]() -> awaitable<int> {
    auto conn = co_await connect(cfg, "bbmd-cli");
    const auto all = co_await bbm::progress_all(*conn);
    std::cout << (json ? bbm::render_status_json(all) : bbm::render_status_table(all, bbm::stdout_wants_colour()));
    co_return kExitOk;
  });
}

int background_pause(const config::Config& cfg, const std::string& name) { return flip(cfg, name, true); }
int background_resume(const config::Config& cfg, const std::string& name) { return flip(cfg, name, false); }

int background_run(const config::Config& cfg, int max_job_retry) {
  auto options = runner_options(cfg, "sync");
  options.lease.max_attempts = max_job_retry;
  metrics::Metrics metrics;
  const auto registry = bbm::WorkRegistry::with_sql_folder(cfg.backgroundmigrations.sqlfunctions);
  registry.log_notices(log::Logger(log::kSyncWorkerComponent));
  return run_to_completion([&]() -> awaitable<int> {
    auto conn = co_await connect(cfg, "bbmd-run");
    // One more connection, for the range lookahead while each batch runs.
    db::Pool::Options lookahead_options;
    lookahead_options.max_open = 1;
    const auto ex = co_await boost::asio::this_coro::executor;
    auto lookahead = db::Pool::create(ex, db::conn_params(cfg.database, "bbmd-run-lookahead"), lookahead_options);
    // A bar line starts with "\r" and is redrawn in place; it ends its own line once finished.
    bbm::SyncWorker worker(registry, metrics, options, [](const std::string& line) {
      if (line.starts_with('\r')) {
        std::cout << line << std::flush;
      } else {
        std::cout << line << std::endl;
      }
    }, lookahead);
    worker.draw_bar(::isatty(STDOUT_FILENO) == 1);
    const auto report = co_await worker.run_all(*conn);
    for (const auto& item : report.items) {
      if (!item.finished) std::cerr << "bbmd: " << item.name << " could not finish: " << item.problem << "\n";
    }
    std::cout << report.items.size() << " batched background migration" << (report.items.size() == 1 ? "" : "s")
              << " processed, " << (report.all_finished() ? "all finished" : "some could not finish") << "\n";
    co_return report.all_finished() ? kExitOk : kExitFailure;
  });
}

}  // namespace bbmd::cli

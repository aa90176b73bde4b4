// Foreground runs of migrations to completion (see sync_worker.hpp).
#include "bbm/sync_worker.hpp"

#include <cstdio>

#include "bbm/migration_store.hpp"
#include "bbm/progress.hpp"
#include "bbm/status_report.hpp"
#include "bbm/sleep.hpp"
#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

// While other workers hold the remaining jobs, check again at this pace: short enough for a
// responsive CLI, long enough not to hammer the lease row.
constexpr std::chrono::milliseconds kBusyPoll{200};
constexpr std::chrono::seconds kProgressEvery{1};

}  // namespace

bool SyncReport::all_finished() const {
  for (const auto& item : items) {
    if (!item.finished) return false;
  }
  return true;
}

SyncWorker::SyncWorker(const WorkRegistry& registry, metrics::Metrics& metrics, RunnerOptions options,
                       ProgressSink progress, std::shared_ptr<db::Pool> lookahead_pool)
    : runner_(registry, metrics, log::Logger(log::kSyncWorkerComponent), std::move(options), nullptr, nullptr,
              std::move(lookahead_pool)),
      progress_(std::move(progress)) {}

boost::asio::awaitable<SyncReport> SyncWorker::run_all(db::Connection& conn) {
  SyncReport report;
  for (auto id : co_await reset_unfinished(conn)) report.items.push_back(co_await run_one(conn, id));
  co_return report;
}

boost::asio::awaitable<SyncReport> SyncWorker::run_named(db::Connection& conn, const std::vector<std::string>& names) {
  SyncReport report;
  for (const auto& name : names) {
    co_await conn.query("bbm_sync_reactivate",
                        "UPDATE batched_background_migrations SET status = 1, failure_error_code = NULL, "
                        "hold_until = NULL, hold_code = NULL, hold_reason = NULL, updated_at = now() "
                        "WHERE name = $1 AND status IN (0, 3)",
                        name);
    auto found = co_await conn.query("bbm_sync_id", "SELECT id FROM batched_background_migrations WHERE name = $1",
                                     name);
    if (found.empty()) {
      report.items.push_back({name, false, "no batched background migration named '" + name + "'"});
      continue;
    }
    report.items.push_back(co_await run_one(conn, found.get_int(0, 0)));
  }
  co_return report;
}

boost::asio::awaitable<SyncReport::Item> SyncWorker::run_one(db::Connection& conn, std::int64_t id) {
  for (;;) {
    const auto m = co_await migration_by_id(conn, id);
    if (!m) co_return SyncReport::Item{"#" + std::to_string(id), false, "migration was deleted"};
    SyncReport::Item item{m->name, false, {}};
    switch (static_cast<MigrationStatus>(m->status)) {
      case MigrationStatus::finished:
        co_await print_progress(conn, *m, true);
        item.finished = true;
        co_return item;
      case MigrationStatus::failed: {
        auto r = co_await conn.query("bbm_sync_failure",
                                     "SELECT coalesce(failure_error_code, 0), coalesce(last_error, '') "
                                     "FROM batched_background_migrations WHERE id = $1",
                                     id);
        const auto code = static_cast<FailureCode>(r.get_int(0, 0));
        item.problem = "failed with code " + std::to_string(static_cast<int>(code)) + " (" +
                       std::string(to_string(code)) + "): " + r.get_string(0, 1);
        co_return item;
      }
      case MigrationStatus::paused:
        item.problem = "was paused while running";
        co_return item;
      default:
        break;
    }
    const auto step = co_await runner_.step(conn, *m);
    if (step.kind == StepResult::Kind::held) {
      item.problem = "held: " + step.reason;
      co_return item;
    }
    if (step.kind == StepResult::Kind::busy) co_await sleep_for(kBusyPoll);
    co_await print_progress(conn, *m, false);
  }
}

boost::asio::awaitable<void> SyncWorker::print_progress(db::Connection& conn, const Migration& m, bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!progress_ || (!force && now - last_progress_ < kProgressEvery)) co_return;
  last_progress_ = now;
  const auto p = co_await progress_of(conn, m.id);
  // A bar redrawn in place on a terminal; whole lines when stdout goes to a file or a pipe.
  progress_(render_progress_line(p, bar_));
}

}  // namespace bbmd::bbm

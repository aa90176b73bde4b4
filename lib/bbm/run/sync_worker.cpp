// Foreground runs of migrations to completion (see sync_worker.hpp).
#include "bbm/run/sync_worker.hpp"

#include <cstdio>

#include "bbm/report/progress.hpp"
#include "bbm/report/status_render.hpp"
#include "bbm/run/checks.hpp"
#include "bbm/store/operator_verbs.hpp"
#include "bbm/store/pg_store.hpp"
#include "db/connection.hpp"
#include "db/sleep.hpp"

namespace bbmd::bbm {

namespace {

// While other workers hold the remaining jobs, check again at this pace: short enough for a
// responsive CLI, long enough not to hammer the lease row.
constexpr std::chrono::milliseconds kBusyPoll{200};
constexpr std::chrono::seconds kProgressEvery{1};
// What a foreground run starts again: failed and paused migrations, their failed jobs with fresh attempts.
const std::vector<MigrationStatus> kRerun{MigrationStatus::paused, MigrationStatus::failed};

}  // namespace

bool SyncReport::all_finished() const {
  for (const auto& item : items) {
    if (!item.finished) return false;
  }
  return true;
}

SyncWorker::SyncWorker(const WorkRegistry& registry, metrics::Metrics& metrics, RunnerOptions options,
                       ProgressSink progress, std::shared_ptr<db::Pool> lookahead_pool)
    : validator_(registry),
      runner_(metrics, log::Logger(log::kSyncWorkerComponent), std::move(options), nullptr, std::move(lookahead_pool)),
      progress_(std::move(progress)) {}

boost::asio::awaitable<SyncReport> SyncWorker::run_all(db::Connection& conn) {
  SyncReport report;
  co_await retry(conn, Selection::all(), kRerun);
  for (auto id : co_await unfinished_ids(conn)) report.items.push_back(co_await run_one(conn, id));
  co_return report;
}

boost::asio::awaitable<SyncReport> SyncWorker::run_named(db::Connection& conn, const std::vector<std::string>& names) {
  SyncReport report;
  for (const auto& name : names) {
    co_await retry(conn, Selection::named(name), kRerun);
    const auto id = co_await id_named(conn, name);
    if (!id) {
      report.items.push_back({name, false, "no batched background migration named '" + name + "'"});
      continue;
    }
    report.items.push_back(co_await run_one(conn, *id));
  }
  co_return report;
}

boost::asio::awaitable<SyncReport::Item> SyncWorker::run_one(db::Connection& conn, std::int64_t id) {
  PgStore store(conn);
  PgChecks checks(conn, validator_, nullptr);
  for (;;) {
    const auto m = co_await store.find(id);
    if (!m) co_return SyncReport::Item{"#" + std::to_string(id), false, "migration was deleted"};
    SyncReport::Item item{m->name, false, {}};
    switch (static_cast<MigrationStatus>(m->status)) {
      case MigrationStatus::finished:
        co_await print_progress(conn, *m, true);
        item.finished = true;
        co_return item;
      case MigrationStatus::failed: {
        const auto code = static_cast<FailureCode>(m->failure_error_code.value_or(0));
        item.problem = "failed with code " + std::to_string(static_cast<int>(code)) + " (" +
                       std::string(to_string(code)) + "): " + m->last_error.value_or("");
        co_return item;
      }
      case MigrationStatus::paused:
        item.problem = "was paused while running";
        co_return item;
      default:
        break;
    }
    const auto step = co_await runner_.step(store, checks, *m);
    // Nothing could be recorded on a dead connection: the foreground run ends with its error.
    if (step.kind == StepResult::Kind::connection_lost) throw db::Error(db::ErrorKind::connection_lost, "", step.reason);
    if (step.kind == StepResult::Kind::held) {
      item.problem = "held: " + step.reason;
      co_return item;
    }
    if (step.kind == StepResult::Kind::busy) co_await db::sleep_for(kBusyPoll);
    co_await print_progress(conn, *m, false);
  }
}

boost::asio::awaitable<void> SyncWorker::print_progress(db::Connection& conn, const Bbm& m, bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!progress_ || (!force && now - last_progress_ < kProgressEvery)) co_return;
  last_progress_ = now;
  const auto p = co_await progress_of(conn, m.id);
  // A bar redrawn in place on a terminal; whole lines when stdout goes to a file or a pipe.
  progress_(render_progress_line(p, bar_));
}

}  // namespace bbmd::bbm

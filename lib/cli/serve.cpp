// `bbmd serve`: wires the pool, workers, progress collector, HTTP listener and signals on one
// io_context, and shuts down in two stages (stop leasing; then cancel the in-flight batch).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "bbm/run/batch_sizer.hpp"
#include "bbm/report/progress_collector.hpp"
#include "bbm/run/change_listener.hpp"
#include "bbm/run/worker.hpp"
#include "bbm/store/readiness_check.hpp"
#include "bbm/work/parser_memory.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/options.hpp"
#include "cli/systemd_notify.hpp"
#include "config/keys.hpp"
#include "config/loader.hpp"
#include "db/conninfo.hpp"
#include "db/pool.hpp"
#include "db/readiness.hpp"
#include "http/admin.hpp"
#include "http/server.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"
#include "throttle/throttle.hpp"
#include "schema/pending_monitor.hpp"
#include "version.hpp"

namespace bbmd::cli {

namespace {

namespace asio = boost::asio;
using asio::awaitable;

double seconds(std::chrono::milliseconds d) { return std::chrono::duration<double>(d).count(); }

// After the cancel in stage 2, how long a batch may take to roll back before we give up on it.
constexpr std::chrono::seconds kCancelGrace{5};
// After shutdown, how long cancelled tasks get to unwind before the process exits regardless.
constexpr std::chrono::seconds kDrainLimit{3};
// /readyz answers within this, whatever the database does.
constexpr std::chrono::seconds kReadinessTimeout{3};

class Daemon {
 public:
  Daemon(asio::io_context& ioc, config::Config cfg)
      : ioc_(ioc),
        cfg_(std::move(cfg)),
        log_("bbmd.daemon"),
        params_(db::conn_params(cfg_.database, "bbmd")),
        registry_(bbm::WorkRegistry::with_sql_folder(cfg_.backgroundmigrations.sqlfunctions)),
        sizes_(cfg_.backgroundmigrations.batchsize.adaptive, seconds(cfg_.backgroundmigrations.batchsize.targetduration)),
        throttle_(throttle::Throttle::from_config(cfg_, metrics_)),
        readiness_(ioc.get_executor(), params_, kReadinessTimeout, bbm::tables_problem),
        signals_(ioc, SIGINT, SIGTERM, SIGHUP),
        all_stopped_(ioc),
        watchdog_(ioc) {}

  void start() {
    db::Pool::Options pool_options;
    pool_options.max_open = static_cast<std::size_t>(cfg_.pool.maxopen);
    pool_options.reconnect_max = cfg_.backgroundmigrations.backoff.max;
    pool_ = db::Pool::create(ioc_.get_executor(), params_, pool_options,
                             [this](std::string_view name, double s, bool ok) { metrics_.query(name, s, ok); });
    start_http();
    if (cfg_.backgroundmigrations.enabled) start_workers();
    collector_ = std::make_unique<bbm::ProgressCollector>(ioc_.get_executor(), pool_, metrics_);
    spawn("progress collector", collector_->run());
    pending_ = std::make_unique<schema::PendingMonitor>(ioc_.get_executor(), pool_, metrics_, cfg_.migrations.pre,
                                                        cfg_.migrations.post);
    spawn("pending migration check", pending_->run());
    spawn("signal handler", handle_signals());
    spawn("watchdog", watchdog_loop(watchdog_));
    registry_.log_notices(log_);
    bbm::release_parser_memory();  // the work functions are parsed: serve needs no parser from here on
    log_.info("bbmd serving", {{"version", kVersion},
                               {"database", db::describe(cfg_.database)},
                               {"workers", cfg_.backgroundmigrations.enabled ? cfg_.backgroundmigrations.workers : 0},
                               {"work_functions", registry_.names()}});
    notify_ready();
  }

  [[nodiscard]] int exit_code() const noexcept { return exit_code_; }
  [[nodiscard]] bool stopped() const noexcept { return stopped_; }

 private:
  void start_http() {
    if (cfg_.http_debug.addr.empty()) return;
    http::ServerOptions options{cfg_.http_debug.addr, cfg_.http_debug.prometheus_enabled,
                                cfg_.http_debug.prometheus_path};
    server_ = std::make_unique<http::Server>(
        ioc_.get_executor(), options,
        [this] {
          publish_pool();
          return metrics_.scrape();
        },
        [this]() -> awaitable<std::string> { co_return co_await readiness_.check(); },
        http::admin_handler(pool_, http::AdminOptions{.token = cfg_.http_debug.admin_token}));
    server_->start();
    log_.info("debug listener started", {{"addr", cfg_.http_debug.addr}, {"port", server_->port()}});
  }

  // Pool figures are read at scrape time, so they are never stale.
  void publish_pool() {
    const auto s = pool_->stats();
    metrics_.pool({s.open, s.in_use, s.max_open, s.reconnects, s.connect_failures});
  }

  void start_workers() {
    for (int i = 0; i < cfg_.backgroundmigrations.workers; ++i) {
      auto worker = std::make_unique<bbm::Worker>(ioc_.get_executor(), pool_, registry_, metrics_,
                                                  worker_options(cfg_, "worker-" + std::to_string(i)), &sizes_,
                                                  &throttle_);
      ++running_workers_;
      asio::co_spawn(ioc_, worker->run(), [this](std::exception_ptr e) {
        if (e) log_exception("worker", e);
        if (--running_workers_ == 0) all_stopped_.cancel();
      });
      workers_.push_back(std::move(worker));
    }
    if (!cfg_.backgroundmigrations.listen) return;
    listener_ = std::make_unique<bbm::ChangeListener>(
        ioc_.get_executor(), db::conn_params(cfg_.database, "bbmd-listen"),
        [this] {
          for (auto& w : workers_) w->wake();
        },
        cfg_.backgroundmigrations.backoff.max);
    spawn("change listener", listener_->run());
  }

  // Every task's exception reaches the log: nothing fails silently.
  void spawn(const char* what, awaitable<void> task) {
    asio::co_spawn(ioc_, std::move(task), [this, what](std::exception_ptr e) {
      if (e) log_exception(what, e);
    });
  }

  void log_exception(const char* what, std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log_.error(std::string(what) + " stopped with an error", {{log::kError, ex.what()}});
    }
  }

  awaitable<void> handle_signals() {
    for (;;) {
      auto [ec, signal] = co_await signals_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      if (signal == SIGHUP) {
        reload();
        continue;
      }
      log_.info("shutting down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
      co_await shutdown();
      co_return;
    }
  }

  void reload() {
    notify_reloading();
    try {
      auto next = config::load_file(cfg_.source);
      for (const auto& key : config::changed_non_reloadable(cfg_, next)) {
        log_.warn("config change needs a restart; keeping the running value", {{"key", key}});
      }
      config::copy_reloadable(next, cfg_);
      log::set_level(cfg_.log.level);
      sizes_.configure(cfg_.backgroundmigrations.batchsize.adaptive,
                       seconds(cfg_.backgroundmigrations.batchsize.targetduration));
      throttle_ = throttle::Throttle::from_config(cfg_, metrics_);
      for (std::size_t i = 0; i < workers_.size(); ++i) {
        workers_[i]->reconfigure(worker_options(cfg_, "worker-" + std::to_string(i)));
      }
      log_.info("configuration reloaded", {{"source", cfg_.source.string()}});
    } catch (const std::exception& e) {
      log_.error("configuration reload failed; keeping the running configuration", {{log::kError, e.what()}});
    }
    notify_reloaded();
  }

  // Waits until every worker has returned or `limit` passes; true if they all returned.
  awaitable<bool> wait_for_workers(std::chrono::milliseconds limit) {
    if (running_workers_ == 0) co_return true;
    all_stopped_.expires_after(limit);
    co_await all_stopped_.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return running_workers_ == 0;
  }

  awaitable<void> shutdown() {
    notify_stopping();
    for (auto& w : workers_) w->stop();
    if (listener_) listener_->stop();
    // Workers mid-batch keep their connection; one waiting to connect (database down) gives up now.
    pool_->close();
    collector_->stop();
    pending_->stop();
    watchdog_.cancel();
    const bool stopped = co_await wait_for_workers(cfg_.backgroundmigrations.shutdowntimeout);
    if (!stopped) {
      log_.warn("shutdown deadline reached; cancelling in-flight batches",
                {{"deadline_s", cfg_.backgroundmigrations.shutdowntimeout.count() / 1000.0}});
      for (auto& w : workers_) co_await w->cancel_in_flight();
      const bool stopped_after_cancel = co_await wait_for_workers(kCancelGrace);
      if (!stopped_after_cancel) {
        log_.error("workers did not stop after cancel; exiting anyway (leases expire on their own)");
        exit_code_ = kExitFailure;
      }
    }
    if (server_) server_->stop();
    log_.info("bbmd stopped");
    stopped_ = true;
  }

  asio::io_context& ioc_;
  config::Config cfg_;
  log::Logger log_;
  metrics::Metrics metrics_;
  db::ConnParams params_;
  bbm::WorkRegistry registry_;
  bbm::BatchSizes sizes_;
  throttle::Throttle throttle_;
  db::Readiness readiness_;
  std::shared_ptr<db::Pool> pool_;
  std::unique_ptr<http::Server> server_;
  std::vector<std::unique_ptr<bbm::Worker>> workers_;
  std::unique_ptr<bbm::ChangeListener> listener_;
  std::unique_ptr<bbm::ProgressCollector> collector_;
  std::unique_ptr<schema::PendingMonitor> pending_;
  asio::signal_set signals_;
  asio::steady_timer all_stopped_;
  asio::steady_timer watchdog_;
  int running_workers_ = 0;
  int exit_code_ = kExitOk;
  bool stopped_ = false;
};

}  // namespace

int serve(const config::Config& cfg) {
  asio::io_context ioc(1);
  Daemon daemon(ioc, cfg);
  daemon.start();
  while (!daemon.stopped() && ioc.run_one() > 0) {
  }
  // Shutdown has cancelled everything; let those coroutines unwind while the daemon they refer
  // to still exists. Destroying suspended coroutine frames after it would touch freed memory.
  ioc.run_for(kDrainLimit);
  if (!ioc.stopped()) {
    log::Logger("bbmd.daemon").error("tasks still pending after shutdown; exiting without unwinding them");
    std::_Exit(kExitFailure);
  }
  return daemon.exit_code();
}

}  // namespace bbmd::cli

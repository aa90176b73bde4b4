#pragma once
// `background-migrate run`: finishes every unfinished migration in the foreground, one after
// another, printing progress; never retries forever.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bbm/check/validator.hpp"
#include "bbm/run/runner.hpp"

namespace bbmd::bbm {

struct SyncReport {
  struct Item {
    std::string name;
    bool finished = false;
    std::string problem;  // why it could not finish
  };
  std::vector<Item> items;
  [[nodiscard]] bool all_finished() const;
};

class SyncWorker {
 public:
  using ProgressSink = std::function<void(const std::string& line)>;
  // `lookahead_pool`, if given, lends the runner a connection for the range lookahead (Runner).
  SyncWorker(const WorkRegistry& registry, metrics::Metrics& metrics, RunnerOptions options, ProgressSink progress,
             std::shared_ptr<db::Pool> lookahead_pool = nullptr);
  // Resets failed and paused migrations, then runs each unfinished one to its end.
  boost::asio::awaitable<SyncReport> run_all(db::Connection& conn);
  // Runs the named migrations only (used by schema migrations that require them).
  boost::asio::awaitable<SyncReport> run_named(db::Connection& conn, const std::vector<std::string>& names);
  // Progress as a bar redrawn in place ("\r..." lines the sink prints without a newline), for a
  // terminal; off by default, giving whole lines for logs and pipes.
  void draw_bar(bool on) noexcept { bar_ = on; }

 private:
  boost::asio::awaitable<SyncReport::Item> run_one(db::Connection& conn, std::int64_t id);
  boost::asio::awaitable<void> print_progress(db::Connection& conn, const Bbm& m, bool force);

  Validator validator_;
  Runner runner_;
  ProgressSink progress_;
  std::chrono::steady_clock::time_point last_progress_{};
  bool bar_ = false;
};

}  // namespace bbmd::bbm

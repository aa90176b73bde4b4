// Scenario db_faults: while `bbmd serve` runs a migration, PostgreSQL is restarted (fast and
// immediate), bbmd's sessions are terminated, and a proxy between bbmd and the server drops and
// then blackholes its connections. Each fault counts as survived only if bbmd reconnected,
// /readyz said 200 again, and that fault's migration finished with every row changed once.
// Restarts and the blackhole must also show on /readyz (non-200) while they last, and a
// blackhole must be noticed within bbmd's configured keepalive / tcp_user_timeout bound.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "e2e/e2e_helpers.hpp"
#include "reliability/suite.hpp"
#include "reliability/tcp_proxy.hpp"
#include "reliability/workload.hpp"
#include "support/pg_cluster.hpp"

namespace bbmd::reliability {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Liveness bounds far below the defaults (10 s / 5 s / 3, 30 s) so a blackhole costs seconds.
constexpr auto kKeepalivesIdle = 1s;
constexpr auto kKeepalivesInterval = 1s;
constexpr int kKeepalivesCount = 2;
constexpr auto kTcpUserTimeout = 3s;
// Linux ends a connection awaiting a result at the first keepalive probe after the user timeout
// (or after `count` probes without one), and one with unacknowledged data at the user timeout;
// one more probe interval covers the tick, the slack a loaded CI machine.
constexpr milliseconds kNoticeBound =
    std::max<milliseconds>(kTcpUserTimeout, kKeepalivesIdle + kKeepalivesInterval * kKeepalivesCount) +
    kKeepalivesInterval;
constexpr milliseconds kNoticeSlack = 2s;

constexpr const char* kDatabase = "faults";
constexpr int kRows = 3000;
constexpr int kBatchSize = 100;   // 30 batches of ~60 ms: the migration is mid-flight at each fault
constexpr int kJobsBeforeFault = 2;
constexpr auto kOutageDeadline = 15s;   // /readyz must say non-200 within this
constexpr auto kRecoveryDeadline = 60s;  // ready again and the migration finished within this

// Log lines a worker writes when a query fails because its connection is gone.
const std::vector<std::string> kNoticedLines = {"connection lost during job", "worker pass failed"};

enum class Fault { fast_restart, immediate_restart, terminate, drop, blackhole };

const char* name_of(Fault f) {
  switch (f) {
    case Fault::fast_restart: return "restart -m fast";
    case Fault::immediate_restart: return "restart -m immediate";
    case Fault::terminate: return "pg_terminate_backend";
    case Fault::drop: return "proxy drop";
    case Fault::blackhole: return "proxy blackhole";
  }
  return "?";
}

// One PostgreSQL of our own (it gets restarted), the proxy in front of it, and `bbmd serve`.
class Rig {
 public:
  Rig() : proxy_("127.0.0.1", cluster_.port()), config_(through_proxy(), liveness_overrides()) {
    cluster_.exec(std::string("CREATE DATABASE ") + kDatabase);
    write_touch_function(config_, "touch", "0.05");
    const auto migrate = test::run_bbmd({"database", "migrate", "up", config_.path()}, 60s);
    if (migrate.exit_code != 0) throw std::runtime_error("migrate up failed: " + migrate.err);
    start_serve();
  }

  test::PgCluster& cluster() { return cluster_; }
  TcpProxy& proxy() { return proxy_; }
  Serve& serve() { return *serve_; }
  [[nodiscard]] std::string sql(const std::string& query) const { return cluster_.scalar(query, kDatabase); }
  [[nodiscard]] int readyz() const { return e2e::http_get(http_port_, "/readyz").status; }
  [[nodiscard]] double reconnects() const {
    const auto scrape = e2e::http_get(http_port_, "/metrics").body;
    return e2e::metric_value(scrape, "registry_database_reconnects_total").value_or(-1);
  }

  void start_serve() {
    serve_ = std::make_unique<Serve>(config_, "faults");
    const auto port = serve_->debug_port();
    if (!port) throw std::runtime_error("serve logged no debug port");
    http_port_ = *port;
  }

 private:
  config::Database through_proxy() const {
    config::Database db = cluster_.config(kDatabase);
    db.host = proxy_.host();
    db.port = proxy_.port();
    return db;
  }
  static test::ConfigOverrides liveness_overrides() {
    auto text = [](milliseconds d) { return std::to_string(d.count()) + "ms"; };
    return {{"database.keepalives.idle", text(kKeepalivesIdle)},
            {"database.keepalives.interval", text(kKeepalivesInterval)},
            {"database.keepalives.count", std::to_string(kKeepalivesCount)},
            {"database.tcpusertimeout", text(kTcpUserTimeout)},
            {"database.connecttimeout", "2s"}};
  }

  test::PgCluster cluster_;
  TcpProxy proxy_;
  test::ConfigFile config_;
  std::unique_ptr<Serve> serve_;
  int http_port_ = 0;
};

// Table t<n> (make_table's shape) and a migration over it; returns the migration id.
std::string queue_migration(Rig& rig, int n) {
  const std::string table = "t" + std::to_string(n);
  rig.cluster().exec("CREATE TABLE " + table +
                         " (id bigint PRIMARY KEY, a int NOT NULL, b bigint, changes int NOT NULL DEFAULT 0);"
                         "INSERT INTO " + table + " (id, a) SELECT g, g * 10 FROM generate_series(1, " +
                         std::to_string(kRows) + ") g",
                     kDatabase);
  return rig.sql("INSERT INTO batched_background_migrations (name, table_name, column_name, job_signature_name, "
                 "job_arguments, min_value, max_value, batch_size, status) VALUES ('20260101000000_fault_" +
                 std::to_string(n) + "', 'public." + table +
                 "', 'id', 'touch', '{}', 1, " + std::to_string(kRows) + ", " + std::to_string(kBatchSize) +
                 ", 1) RETURNING id");
}

// Whether a worker logged a lost connection after byte `offset` of its stderr.
bool noticed_since(Rig& rig, std::size_t offset) {
  const std::string log = rig.serve().err();
  if (log.size() <= offset) return false;
  const std::string fresh = log.substr(offset);
  for (const auto& line : kNoticedLines) {
    if (fresh.find(line) != std::string::npos) return true;
  }
  return false;
}

struct Outcome {
  bool outage_seen = true;  // /readyz said non-200 while the fault lasted (where it lasts)
  bool noticed = true;      // the blackhole was noticed within the bound
};

Outcome restart(Rig& rig, const std::string& mode) {
  Outcome o;
  rig.cluster().restart(mode, [&] {
    o.outage_seen = test::poll_until([&] { return rig.readyz() != 200; }, kOutageDeadline);
  });
  return o;
}

Outcome blackhole(Rig& rig, Tally& tally) {
  Outcome o;
  const std::size_t offset = rig.serve().err().size();
  const auto start = Clock::now();
  rig.proxy().blackhole();
  o.noticed = test::poll_until([&] { return noticed_since(rig, offset); }, kNoticeBound + kNoticeSlack + 10s, 20ms);
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  std::printf("   blackhole noticed after %lld ms (bound %lld ms + %lld ms slack)\n",
              static_cast<long long>(took.count()), static_cast<long long>(kNoticeBound.count()),
              static_cast<long long>(kNoticeSlack.count()));
  o.noticed = tally.expect(o.noticed && took <= kNoticeBound + kNoticeSlack,
                           "db_faults: blackhole noticed after " + std::to_string(took.count()) + " ms, bound " +
                               std::to_string((kNoticeBound + kNoticeSlack).count()) + " ms");
  o.outage_seen = test::poll_until([&] { return rig.readyz() != 200; }, kOutageDeadline);
  rig.proxy().heal();
  return o;
}

Outcome inject(Rig& rig, Fault fault, Tally& tally) {
  switch (fault) {
    case Fault::fast_restart: return restart(rig, "fast");
    case Fault::immediate_restart: return restart(rig, "immediate");
    case Fault::terminate: {
      const auto killed = rig.cluster().scalar(
          std::string("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '") + kDatabase +
          "' AND pid <> pg_backend_pid()");
      std::printf("   terminated %s sessions\n", killed.c_str());
      return {};
    }
    case Fault::drop: rig.proxy().drop(); return {};
    case Fault::blackhole: return blackhole(rig, tally);
  }
  return {};
}

// One fault against a fresh migration: injected, then judged.
void run_fault(Rig& rig, Fault fault, int n, Tally& tally) {
  const std::string what = std::string("db_faults: ") + name_of(fault) + " #" + std::to_string(n);
  std::printf("-- %s\n", what.c_str());
  std::fflush(stdout);
  const std::string id = queue_migration(rig, n);
  const std::string jobs_done =
      "SELECT count(*) FROM background_migration_jobs WHERE status = 2 AND batched_background_migration_id = " + id;
  if (!tally.expect(test::poll_until([&] { return std::stoi(rig.sql(jobs_done)) >= kJobsBeforeFault; }, 30s),
                    what + ": the migration never got going")) {
    ++tally.hangs;
    return;
  }
  const double reconnects_before = rig.reconnects();
  ++tally.faults_injected;
  const Outcome o = inject(rig, fault, tally);
  tally.expect(o.outage_seen, what + ": /readyz never answered non-200 during the outage");

  const bool ready = tally.expect(test::poll_until([&] { return rig.readyz() == 200; }, kRecoveryDeadline),
                                  what + ": /readyz not 200 after the fault");
  const std::string status = "SELECT status FROM batched_background_migrations WHERE id = " + id;
  const bool finished = test::poll_until([&] { return rig.sql(status) == "2"; }, kRecoveryDeadline);
  if (!finished) ++tally.hangs;
  tally.expect(finished, what + ": migration not finished (status " + rig.sql(status) + ")");
  const std::string table = "t" + std::to_string(n);
  const long lost = std::stol(rig.sql("SELECT count(*) FROM " + table + " WHERE changes = 0"));
  const long twice = std::stol(rig.sql("SELECT count(*) FROM " + table + " WHERE changes > 1"));
  tally.rows_lost += finished ? lost : 0;  // an unfinished migration is a hang, not a loss
  tally.rows_changed_twice += twice;
  const double reconnects_after = rig.reconnects();
  const bool reconnected = tally.expect(reconnects_after > reconnects_before,
                                        what + ": bbmd did not reconnect (registry_database_reconnects_total " +
                                            std::to_string(reconnects_before) + " -> " +
                                            std::to_string(reconnects_after) + ")");
  const bool alive = rig.serve().alive(tally);
  if (!alive) rig.start_serve();
  const bool survived =
      o.outage_seen && o.noticed && ready && finished && lost == 0 && twice == 0 && reconnected && alive;
  if (survived) ++tally.faults_survived;
  std::printf("   %s: rows lost %ld, changed twice %ld, reconnects %.0f -> %.0f\n",
              survived ? "survived" : "NOT survived", lost, twice, reconnects_before, reconnects_after);
}

}  // namespace

BBMD_RELIABILITY_SCENARIO(db_faults, 20)(const Options& opt, Tally& tally) {
  const std::vector<Fault> round = {Fault::fast_restart, Fault::immediate_restart, Fault::terminate, Fault::drop,
                                    Fault::blackhole};
  // Quick: each fault once. Full: each at least twice, more with --scale.
  const int rounds = opt.quick ? 1 : std::max(2, static_cast<int>(2 * opt.scale + 0.5));
  std::printf("   %d round(s) of %zu faults; notice bound %lld ms\n", rounds, round.size(),
              static_cast<long long>(kNoticeBound.count()));
  Rig rig;
  int n = 0;
  for (int r = 0; r < rounds; ++r) {
    for (const Fault f : round) run_fault(rig, f, ++n, tally);
  }
  rig.serve().stop(tally);
}

}  // namespace bbmd::reliability

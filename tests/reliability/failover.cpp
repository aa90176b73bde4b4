// Scenario failover: a primary and a streaming standby (both real, the standby from
// pg_basebackup), `bbmd serve` migrating a table on the primary, reached through one address
// (the suite's proxy, moved to the new primary as a virtual IP would be) or through libpq's
// multi-host form (database.host "a,b", database.port "p,q": target_session_attrs=read-write).
//
//   kill -9, synchronous: the primary's processes die mid-migration and the standby is promoted.
//     No batch the primary had committed may be missing on the survivor.
//   kill -9, asynchronous: the standby's WAL receiver is cut first and the primary commits more
//     batches before it dies, so those are lost with it for certain; their job rows are gone,
//     so bbmd must run them again on the survivor.
//   switchover: the primary is stopped cleanly, the standby promoted, and the old primary
//     rejoins as a standby of the new one (pg_rewind -R) and replays the rest of the run.
//
// Every case ends with the migration finished on the survivor and every row of its table
// changed exactly once there.
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "reliability/suite.hpp"
#include "reliability/tcp_proxy.hpp"
#include "reliability/workload.hpp"
#include "support/pg_cluster.hpp"
#include "support/poll.hpp"

namespace bbmd::reliability {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDatabase = "failover";
constexpr const char* kTable = "moved";
constexpr long kRows = 3000;
constexpr int kBatchSize = 50;  // 60 jobs of ~30 ms over two workers
constexpr long kJobsBeforeFault = 10;
// Batches the asynchronous primary commits after its standby stopped receiving: lost for certain.
constexpr long kUnreplicatedJobs = 5;
constexpr auto kSetupDeadline = 30s;
constexpr auto kFinishDeadline = 90s;

enum class Replication { synchronous, asynchronous };
enum class Address { proxy, multi_host };
enum class Transition { kill9, switchover };

struct Case {
  Replication replication;
  Address address;
  Transition transition;

  [[nodiscard]] std::string name() const {
    return std::string(transition == Transition::kill9 ? "kill -9" : "switchover") + ", " +
           (replication == Replication::synchronous ? "synchronous" : "asynchronous") + ", " +
           (address == Address::proxy ? "through the proxy" : "multi-host");
  }
};

// Quick: one case of each kind. Full: every replication and address form of each.
std::vector<Case> plan(bool quick) {
  using R = Replication;
  using A = Address;
  using T = Transition;
  if (quick) {
    return {{R::synchronous, A::proxy, T::kill9},
            {R::asynchronous, A::multi_host, T::kill9},
            {R::synchronous, A::multi_host, T::switchover}};
  }
  std::vector<Case> all;
  for (const T t : {T::kill9, T::switchover}) {
    for (const R r : {R::synchronous, R::asynchronous}) {
      for (const A a : {A::proxy, A::multi_host}) all.push_back({r, a, t});
    }
  }
  return all;
}

std::string sql(const test::PgCluster& server, const std::string& query) { return server.scalar(query, kDatabase); }
long count(const test::PgCluster& server, const std::string& query) { return std::stol(sql(server, query)); }

// Finished jobs as "min-max@started_at": a batch run again has the same range but a later start.
std::set<std::string> finished_ranges(const test::PgCluster& server) {
  std::set<std::string> out;
  const std::string list = sql(server, "SELECT coalesce(string_agg(min_value || '-' || max_value || '@' || "
                                       "extract(epoch FROM started_at), ' '), '') "
                                       "FROM background_migration_jobs WHERE status = 2");
  std::size_t start = 0;
  while (start < list.size()) {
    const auto space = list.find(' ', start);
    out.insert(list.substr(start, space == std::string::npos ? std::string::npos : space - start));
    if (space == std::string::npos) break;
    start = space + 1;
  }
  return out;
}

long finished_jobs(const test::PgCluster& server) {
  return count(server, "SELECT count(*) FROM background_migration_jobs WHERE status = 2");
}

bool streaming(const test::PgCluster& primary, const std::string& sync_state) {
  return primary.scalar("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND sync_state = '" +
                        sync_state + "'") == "1";
}

// The primary with a streaming standby, synchronous or not, and the database bbmd migrates.
struct Servers {
  std::unique_ptr<test::PgCluster> primary;
  std::unique_ptr<test::PgCluster> standby;
};

Servers make_servers(Replication replication) {
  Servers p;
  // pg_rewind (the switchover's rejoin) needs hint bits WAL-logged and full page writes on its
  // source, the promoted standby.
  const std::vector<std::string> rewindable = {"wal_log_hints = on", "full_page_writes = on"};
  p.primary = std::make_unique<test::PgCluster>(test::PgCluster::Options{.initdb_args = {}, .settings = rewindable});
  p.standby = p.primary->create_standby(rewindable);
  if (!test::poll_until([&] { return streaming(*p.primary, "async"); }, kSetupDeadline)) {
    throw std::runtime_error("the standby never streamed from the primary");
  }
  if (replication == Replication::synchronous) {
    p.primary->exec("ALTER SYSTEM SET synchronous_standby_names = '*'");
    p.primary->exec("SELECT pg_reload_conf()");
    if (!test::poll_until([&] { return streaming(*p.primary, "sync"); }, kSetupDeadline)) {
      throw std::runtime_error("the standby never became synchronous");
    }
  }
  p.primary->exec(std::string("CREATE DATABASE ") + kDatabase);
  return p;
}

// bbmd's settings for the case's address form; the proxy, when there is one, is returned too.
config::Database address_of(const Case& c, const Servers& p, std::unique_ptr<TcpProxy>& proxy) {
  config::Database db = p.primary->config(kDatabase);
  if (c.address == Address::proxy) {
    proxy = std::make_unique<TcpProxy>("127.0.0.1", p.primary->port());
    db.host = proxy->host();
    db.port = proxy->port();
  } else {
    db.host = "127.0.0.1,127.0.0.1";
    db.ports = {p.primary->port(), p.standby->port()};
  }
  return db;
}

test::ConfigOverrides failover_config() {
  return {{"database.backgroundmigrations.workers", "2"},
          {"database.backgroundmigrations.maxjobspertable", "2"},
          {"database.connecttimeout", "2s"},
          {"database.keepalives.idle", "1s"},
          {"database.keepalives.interval", "1s"},
          {"database.keepalives.count", "2"},
          {"database.tcpusertimeout", "3s"}};
}

// Cuts the standby's WAL receiver, then lets the primary commit kUnreplicatedJobs more batches.
bool outrun_standby(Servers& p, const std::string& what, Tally& tally) {
  p.standby->exec("ALTER SYSTEM SET primary_conninfo = ''");
  p.standby->exec("SELECT pg_reload_conf()");
  const bool cut = test::poll_until([&] { return p.primary->scalar("SELECT count(*) FROM pg_stat_replication") == "0"; },
                                    kSetupDeadline);
  const long before = finished_jobs(*p.primary);
  return tally.expect(cut && test::poll_until([&] { return finished_jobs(*p.primary) >= before + kUnreplicatedJobs; },
                                              kSetupDeadline),
                      what + ": the primary did not run on alone after its standby was cut");
}

// The transition itself; afterwards the standby is the primary and the proxy points at it.
void fail_over(const Case& c, Servers& p, TcpProxy* proxy) {
  if (c.transition == Transition::kill9) {
    p.primary->kill9();
  } else {
    p.primary->stop("fast");  // a clean shutdown sends the standby every WAL record first
  }
  p.standby->promote();
  if (proxy) proxy->retarget("127.0.0.1", p.standby->port());
  if (c.transition == Transition::switchover) p.primary->rejoin_as_standby(*p.standby);
}

void run_case(const Case& c, int n, Tally& tally) {
  const std::string what = "failover: " + c.name() + " #" + std::to_string(n);
  std::printf("-- %s\n", what.c_str());
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  Servers p = make_servers(c.replication);
  std::unique_ptr<TcpProxy> proxy;
  test::ConfigFile cfg(address_of(c, p, proxy), failover_config());
  write_touch_function(cfg, "touch", "0.03");
  const auto migrate = test::run_bbmd({"database", "migrate", "up", cfg.path()}, 60s);
  if (!tally.expect(migrate.exit_code == 0, what + ": migrate up failed: " + migrate.err)) return;
  p.primary->exec(counted_migration_sql("20260101000000_failover", kTable, kRows, "touch", kBatchSize), kDatabase);
  Serve serve(cfg, "failover");
  if (!tally.expect(test::poll_until([&] { return finished_jobs(*p.primary) >= kJobsBeforeFault; }, kSetupDeadline),
                    what + ": the migration never got going")) {
    ++tally.hangs;
    return;
  }
  if (c.replication == Replication::asynchronous && c.transition == Transition::kill9 &&
      !outrun_standby(p, what, tally)) {
    return;
  }
  const auto committed = finished_ranges(*p.primary);
  ++tally.faults_injected;
  fail_over(c, p, proxy.get());

  const test::PgCluster& survivor = *p.standby;
  const std::string status = "SELECT status FROM batched_background_migrations";
  const bool finished = test::poll_until([&] { return sql(survivor, status) == "2"; }, kFinishDeadline);
  if (!finished) ++tally.hangs;
  tally.expect(finished, what + ": migration not finished on the new primary (status " + sql(survivor, status) + ")");
  const long lost = count(survivor, std::string("SELECT count(*) FROM ") + kTable + " WHERE changes = 0");
  const long twice = count(survivor, std::string("SELECT count(*) FROM ") + kTable + " WHERE changes > 1");
  tally.rows_lost += finished ? lost : 0;  // an unfinished migration is a hang, not a loss
  tally.rows_changed_twice += twice;
  tally.expect(lost == 0 && twice == 0, what + ": " + std::to_string(lost) + " rows never changed, " +
                                            std::to_string(twice) + " changed more than once on the new primary");

  // Committed batches the survivor lacks: none where the standby had confirmed them (sync, or a
  // clean switchover); at least the unreplicated ones where it had not. They ran again.
  const auto kept = finished_ranges(survivor);
  long missing = 0;
  for (const auto& range : committed) missing += kept.count(range) ? 0 : 1;
  const bool async_kill = c.replication == Replication::asynchronous && c.transition == Transition::kill9;
  const bool batches_ok = tally.expect(
      async_kill ? missing >= kUnreplicatedJobs : missing == 0,
      what + ": " + std::to_string(missing) + " of " + std::to_string(committed.size()) +
          " committed batches missing on the new primary (expected " +
          (async_kill ? "at least " + std::to_string(kUnreplicatedJobs) : std::string("none")) + ")");

  bool rejoined = true;
  if (c.transition == Transition::switchover) {
    const std::string replayed = std::string("SELECT count(*) FROM ") + kTable + " WHERE changes = 1";
    rejoined = tally.expect(
        p.primary->scalar("SELECT pg_is_in_recovery()") == "t" &&
            test::poll_until([&] { return count(*p.primary, replayed) == kRows; }, kSetupDeadline),
        what + ": the old primary did not rejoin as a standby and replay the run");
  }
  const bool alive = serve.alive(tally);
  serve.stop(tally);
  const bool survived = finished && lost == 0 && twice == 0 && batches_ok && rejoined && alive;
  if (survived) ++tally.faults_survived;
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::printf("   %s in %lld ms: committed batches %zu, missing on the new primary %ld (run again), rows lost %ld, "
              "changed twice %ld\n",
              survived ? "survived" : "NOT survived", static_cast<long long>(took.count()), committed.size(), missing,
              lost, twice);
}

}  // namespace

BBMD_RELIABILITY_SCENARIO(failover, 30)(const Options& opt, Tally& tally) {
  const auto cases = plan(opt.quick);
  const int rounds = opt.quick ? 1 : std::max(1, static_cast<int>(opt.scale + 0.5));
  std::printf("   %d round(s) of %zu cases\n", rounds, cases.size());
  int n = 0;
  for (int r = 0; r < rounds; ++r) {
    for (const auto& c : cases) run_case(c, ++n, tally);
  }
}

}  // namespace bbmd::reliability

#pragma once
// The typed configuration bbmd runs with. Filled by config/loader.cpp from YAML + REGISTRY_* env.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bbmd::config {

using Duration = std::chrono::milliseconds;
// Names to values, e.g. log.fields; values are kept as the text the file gave.
using StringMap = std::map<std::string, std::string>;

// How soon a connection to a vanished server (crashed host, dropped NAT entry, blackholed
// network) is declared dead, instead of the kernel defaults of hours: an idle connection after
// `idle` plus `interval` per unanswered probe; data or a probe unanswered for `tcpusertimeout`
// ends it sooner or later (Linux lets tcp_user_timeout replace the probe count).
struct Keepalives {
  Duration idle{std::chrono::seconds(10)};     // silence before the first probe
  Duration interval{std::chrono::seconds(5)};  // between probes
  int count = 3;                               // unanswered probes that end the connection
};

struct Database {
  // One host, or several separated by commas (libpq's multi-host form): bbmd then connects to the
  // first one that offers a read-write session (target_session_attrs=read-write), so after a
  // failover it finds the promoted standby without a config change.
  std::string host = "localhost";
  int port = 5432;  // the port of every host, or the first of `ports`
  // database.port given as a comma-separated list: one port per host of `host`, in order. Empty
  // when database.port gives one port.
  std::vector<int> ports;
  std::string user = "postgres";
  std::string password;  // secret: never logged, never printed
  std::string dbname = "registry";
  std::string sslmode = "prefer";
  std::string sslcert;
  std::string sslkey;
  std::string sslrootcert;
  Duration connecttimeout{std::chrono::seconds(5)};
  Keepalives keepalives;
  // Sent data unacknowledged this long ends the connection (a query sent into a blackhole);
  // 30 s outlasts a failover's brief stall yet bounds a hung batch well below statementtimeout.
  Duration tcpusertimeout{std::chrono::seconds(30)};
  // Pipelines run as named prepared statements (parsed once per session, not once per job).
  // Off by default, as in the registry: a transaction pooler (PgBouncer) hands each transaction
  // to any server session, where the names do not exist.
  bool preparedstatements = false;
};

// database.port as libpq takes it: "5432", or "5432,5433" with one port per host.
[[nodiscard]] std::string port_text(const Database& db);
// The entries of database.host ("a,b" -> {"a", "b"}; one host -> itself).
[[nodiscard]] std::vector<std::string> host_list(const Database& db);

struct Pool {
  int maxopen = 4;  // connections per process, workers included
};

struct Backoff {
  Duration initial{std::chrono::milliseconds(250)};
  Duration max{std::chrono::seconds(10)};  // also the idle poll interval: DBA edits show within it
  double multiplier = 2.0;
  double jitter = 0.2;  // +/- fraction applied to every sleep
};

// Health indicators (lib/throttle/). Defaults are conservative: each stops only well past the
// point where a DBA would already be looking at the signal, so an unconfigured bbmd backs off
// before it hurts, yet is not held by a healthy cluster's normal noise.
// 1 GiB and 10 GiB are written out because byte thresholds are numbers (int would cap at 2 GiB).
struct ThrottleWalArchive {
  bool enabled = true;
  int maxsegments = 64;  // completed WAL segments not yet archived (1 GiB at the default 16 MB)
};
struct ThrottleWalRate {
  bool enabled = false;                       // off: a sane ceiling depends on the hardware
  double maxbytespersecond = 64.0 * 1048576;  // 64 MiB/s, a busy but not saturated disk
};
struct ThrottleReplicationLag {
  bool enabled = true;
  Duration maxlag{std::chrono::seconds(60)};  // replay_lag of any standby
  double maxbytes = 1073741824.0;             // 1 GiB of WAL not yet replayed by any standby
};
struct ThrottleSlotRetention {
  bool enabled = true;
  double maxbytes = 10737418240.0;  // 10 GiB of WAL held back by the worst replication slot
};
struct ThrottleAutovacuum {
  bool enabled = true;  // wait while (auto)vacuum runs on the target table; never cancel it
};
struct ThrottleLockWaiters {
  bool enabled = true;
  int maxwaiters = 0;  // sessions that waited on the last batch's locks; any waiter is a stop
};
struct ThrottleOldestTransaction {
  bool enabled = true;
  Duration maxage{std::chrono::hours(1)};  // an hour-old transaction already blocks vacuum cleanup
};

struct Throttle {
  std::string flagfile;  // throttle while this file exists (empty: off)
  std::string query;     // throttle while this SQL returns true (empty: off)
  Duration querytimeout{std::chrono::seconds(1)};  // statement_timeout for `query`
  // Cluster-wide answers are reused for this long, bounding the cost per batch (0: ask every time).
  Duration checkinterval{std::chrono::seconds(1)};
  ThrottleWalArchive walarchive;
  ThrottleWalRate walrate;
  ThrottleReplicationLag replicationlag;
  ThrottleSlotRetention slotretention;
  ThrottleAutovacuum autovacuum;
  ThrottleLockWaiters lockwaiters;
  ThrottleOldestTransaction oldesttransaction;
};

struct BatchSize {
  bool adaptive = true;  // aim each batch at targetduration, within the migration's bounds
  // 2 s: short enough that a batch's row locks never hold up the application for long, long
  // enough that per-batch bookkeeping stays a small share of the work.
  Duration targetduration{std::chrono::seconds(2)};
};

struct BackgroundMigrations {
  bool enabled = true;
  Duration jobinterval{0};  // minimum gap between two job starts of one worker
  int maxjobretries = 3;    // total attempts a job gets before its migration fails with code 4
  int workers = 1;
  // LISTEN for the migrations table's change notifications on one extra connection, so a queued
  // migration or a status flip wakes idle workers at once; polling stays the fallback. Must be
  // false behind a transaction pooler, which cannot keep a LISTEN (README, "Through a
  // connection pooler").
  bool listen = true;
  Duration leaseduration{std::chrono::minutes(5)};
  Duration statementtimeout{std::chrono::minutes(1)};
  Duration locktimeout{std::chrono::seconds(5)};
  Duration shutdowntimeout{std::chrono::seconds(30)};
  Duration startupjitter{std::chrono::seconds(5)};
  Duration holdinterval{std::chrono::minutes(1)};  // how long a held migration waits before a recheck
  std::filesystem::path sqlfunctions = "sql/background";
  Backoff backoff;
  Throttle throttle;
  BatchSize batchsize;
  int maxjobspertable = 1;  // running jobs on one table at a time, fleet-wide
  int maxrunningjobs = 0;   // running jobs in the whole fleet (0: no cap)
};

struct Migrations {
  std::filesystem::path pre = "migrations/pre";
  std::filesystem::path post = "migrations/post";
};

struct Log {
  std::string level = "info";       // trace, debug, info, warn, error
  std::string formatter = "json";   // json or text
  StringMap fields;                 // added to every log line, as the registry's log.fields are
};

struct HttpDebug {
  std::string addr = "127.0.0.1:5001";  // empty disables the listener
  bool prometheus_enabled = true;
  std::string prometheus_path = "/metrics";
  std::string admin_token;  // secret: bearer token for the admin API's POST endpoints; empty disables them
};

struct Config {
  std::filesystem::path source;  // the file it was read from
  // The registry's own keys the file holds (registry_keys.hpp): accepted, never read, so only
  // their paths are kept, never a value.
  std::vector<std::string> registry_keys;
  Database database;
  Pool pool;
  BackgroundMigrations backgroundmigrations;
  Migrations migrations;
  Log log;
  HttpDebug http_debug;
};

}  // namespace bbmd::config

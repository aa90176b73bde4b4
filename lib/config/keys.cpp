// The one table of config keys, and the table-driven helpers: lookup, display, reload diffing.
#include "config/keys.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>

#include "config/duration.hpp"

namespace bbmd::config {
namespace {

struct Options {
  bool secret = false;
  bool reloadable = false;
  std::vector<std::string_view> choices{};
  Range range{};
};

// Which C++ field types may hold each key type; checked at compile time for every row.
template <KeyType Type, typename Field>
constexpr bool kStoredAs = (Type == KeyType::string && std::is_same_v<Field, std::string>) ||
                           ((Type == KeyType::integer || Type == KeyType::port_list) && std::is_same_v<Field, int>) ||
                           (Type == KeyType::boolean && std::is_same_v<Field, bool>) ||
                           (Type == KeyType::duration && std::is_same_v<Field, Duration>) ||
                           (Type == KeyType::number && std::is_same_v<Field, double>) ||
                           (Type == KeyType::path && (std::is_same_v<Field, std::string> ||
                                                      std::is_same_v<Field, std::filesystem::path>)) ||
                           (Type == KeyType::string_map && std::is_same_v<Field, StringMap>);

// A row: `Members` is the chain of pointers-to-member from Config down to the field.
template <KeyType Type, auto... Members>
KeyInfo key(std::string_view path, std::string_view help, Options opt = {}) {
  using Field = std::remove_cvref_t<decltype((std::declval<Config&>().*....*Members))>;
  static_assert(kStoredAs<Type, Field>, "key type does not match the Config field's type");
  return KeyInfo{path,
                 Type,
                 opt.secret,
                 opt.reloadable,
                 help,
                 std::move(opt.choices),
                 opt.range,
                 [](Config& c) -> FieldRef { return &(c.*....*Members); },
                 [](const Config& c) -> ConstFieldRef { return &(c.*....*Members); }};
}

Range at_least(double min) { return Range{.min = min}; }
Range between(double min, double max) { return Range{.min = min, .max = max}; }

using C = Config;
using Db = Database;
using Bbm = BackgroundMigrations;
using T = KeyType;

// Bounds: a port is 16 bits; 64 workers is far past where one database benefits (each worker
// holds a connection); jitter is a +/- fraction, so 1 could make a sleep zero.
std::vector<KeyInfo> build_table() {
  return {
      key<T::string, &C::database, &Db::host>(
          "database.host",
          "PostgreSQL host name, IP address or socket folder; several separated by commas (a primary and its "
          "standbys)"),
      key<T::port_list, &C::database, &Db::port>(
          "database.port", "PostgreSQL port, or one per host of database.host separated by commas",
          {.range = between(1, 65535)}),
      key<T::string, &C::database, &Db::user>("database.user", "PostgreSQL role to connect as"),
      key<T::string, &C::database, &Db::password>("database.password", "password of database.user",
                                                  {.secret = true}),
      key<T::string, &C::database, &Db::dbname>("database.dbname", "database holding the registry tables"),
      key<T::string, &C::database, &Db::sslmode>(
          "database.sslmode", "libpq sslmode",
          {.choices = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}}),
      key<T::string, &C::database, &Db::sslcert>("database.sslcert", "client certificate file (libpq sslcert)"),
      key<T::string, &C::database, &Db::sslkey>("database.sslkey", "client key file (libpq sslkey)"),
      key<T::string, &C::database, &Db::sslrootcert>("database.sslrootcert", "CA file (libpq sslrootcert)"),
      key<T::duration, &C::database, &Db::connecttimeout>("database.connecttimeout",
                                                          "how long one connection attempt may take"),
      key<T::duration, &C::database, &Db::keepalives, &Keepalives::idle>(
          "database.keepalives.idle", "silence on a connection before the first TCP keepalive probe (whole seconds)",
          {.range = at_least(1000)}),
      key<T::duration, &C::database, &Db::keepalives, &Keepalives::interval>(
          "database.keepalives.interval", "time between unanswered TCP keepalive probes (whole seconds)",
          {.range = at_least(1000)}),
      key<T::integer, &C::database, &Db::keepalives, &Keepalives::count>(
          "database.keepalives.count", "unanswered TCP keepalive probes that end a connection",
          {.range = at_least(1)}),
      key<T::duration, &C::database, &Db::tcpusertimeout>(
          "database.tcpusertimeout",
          "how long sent data may stay unacknowledged before the connection ends (0: kernel default)"),
      key<T::boolean, &C::database, &Db::preparedstatements>(
          "database.preparedstatements",
          "named prepared statements (false: unnamed only, as a transaction pooler needs; the registry's default)"),
      key<T::integer, &C::pool, &Pool::maxopen>("database.pool.maxopen",
                                                "connections per process, workers included",
                                                {.range = at_least(1)}),
      key<T::boolean, &C::backgroundmigrations, &Bbm::enabled>("database.backgroundmigrations.enabled",
                                                               "run background migrations in serve"),
      key<T::duration, &C::backgroundmigrations, &Bbm::jobinterval>(
          "database.backgroundmigrations.jobinterval", "minimum gap between two job starts of one worker",
          {.reloadable = true}),
      key<T::integer, &C::backgroundmigrations, &Bbm::maxjobretries>(
          "database.backgroundmigrations.maxjobretries", "attempts a job gets before its migration fails",
          {.reloadable = true, .range = at_least(1)}),
      key<T::integer, &C::backgroundmigrations, &Bbm::workers>("database.backgroundmigrations.workers",
                                                               "concurrent workers in this process",
                                                               {.range = between(1, 64)}),
      key<T::boolean, &C::backgroundmigrations, &Bbm::listen>(
          "database.backgroundmigrations.listen",
          "wake idle workers on a queued or resumed migration (LISTEN on one more connection; "
          "false behind a transaction pooler)"),
      key<T::duration, &C::backgroundmigrations, &Bbm::leaseduration>(
          "database.backgroundmigrations.leaseduration", "how long a job lease lasts without renewal",
          {.range = at_least(1)}),
      key<T::duration, &C::backgroundmigrations, &Bbm::statementtimeout>(
          "database.backgroundmigrations.statementtimeout", "statement_timeout for batch queries (0: none)",
          {.reloadable = true}),
      key<T::duration, &C::backgroundmigrations, &Bbm::locktimeout>(
          "database.backgroundmigrations.locktimeout", "lock_timeout for batch queries (0: none)",
          {.reloadable = true}),
      key<T::duration, &C::backgroundmigrations, &Bbm::shutdowntimeout>(
          "database.backgroundmigrations.shutdowntimeout", "how long running jobs get to finish on shutdown"),
      key<T::duration, &C::backgroundmigrations, &Bbm::startupjitter>(
          "database.backgroundmigrations.startupjitter", "random delay before the first job, spreading replicas"),
      key<T::duration, &C::backgroundmigrations, &Bbm::holdinterval>(
          "database.backgroundmigrations.holdinterval", "how long a held migration waits before a recheck",
          {.reloadable = true}),
      key<T::path, &C::backgroundmigrations, &Bbm::sqlfunctions>(
          "database.backgroundmigrations.sqlfunctions", "folder of SQL work functions"),
      key<T::duration, &C::backgroundmigrations, &Bbm::backoff, &Backoff::initial>(
          "database.backgroundmigrations.backoff.initial", "first sleep after a failed or idle run",
          {.reloadable = true}),
      key<T::duration, &C::backgroundmigrations, &Bbm::backoff, &Backoff::max>(
          "database.backgroundmigrations.backoff.max", "longest sleep; also the idle poll interval",
          {.reloadable = true}),
      key<T::number, &C::backgroundmigrations, &Bbm::backoff, &Backoff::multiplier>(
          "database.backgroundmigrations.backoff.multiplier", "growth factor of consecutive sleeps",
          {.reloadable = true, .range = at_least(1)}),
      key<T::number, &C::backgroundmigrations, &Bbm::backoff, &Backoff::jitter>(
          "database.backgroundmigrations.backoff.jitter", "+/- fraction applied to every sleep",
          {.reloadable = true, .range = {.min = 0, .max = 1, .max_exclusive = true}}),
      key<T::boolean, &C::backgroundmigrations, &Bbm::batchsize, &BatchSize::adaptive>(
          "database.backgroundmigrations.batchsize.adaptive",
          "adapt each migration's batch size to targetduration within its min/max bounds", {.reloadable = true}),
      key<T::duration, &C::backgroundmigrations, &Bbm::batchsize, &BatchSize::targetduration>(
          "database.backgroundmigrations.batchsize.targetduration", "the duration each batch aims at",
          {.reloadable = true, .range = at_least(1)}),
      key<T::integer, &C::backgroundmigrations, &Bbm::maxjobspertable>(
          "database.backgroundmigrations.maxjobspertable", "running jobs on one table at a time, fleet-wide",
          {.reloadable = true, .range = at_least(1)}),
      key<T::integer, &C::backgroundmigrations, &Bbm::maxrunningjobs>(
          "database.backgroundmigrations.maxrunningjobs", "running jobs in the whole fleet (0: no cap)",
          {.reloadable = true, .range = at_least(0)}),
      key<T::path, &C::backgroundmigrations, &Bbm::throttle, &Throttle::flagfile>(
          "database.backgroundmigrations.throttle.flagfile", "throttle while this file exists (empty: off)",
          {.reloadable = true}),
      key<T::string, &C::backgroundmigrations, &Bbm::throttle, &Throttle::query>(
          "database.backgroundmigrations.throttle.query", "throttle while this SQL returns true (empty: off)",
          {.reloadable = true}),
      key<T::duration, &C::backgroundmigrations, &Bbm::throttle, &Throttle::querytimeout>(
          "database.backgroundmigrations.throttle.querytimeout",
          "statement_timeout of throttle.query",
          {.reloadable = true, .range = at_least(1)}),
      key<T::duration, &C::backgroundmigrations, &Bbm::throttle, &Throttle::checkinterval>(
          "database.backgroundmigrations.throttle.checkinterval",
          "how long cluster-wide indicator answers are reused (0: ask before every batch)",
          {.reloadable = true}),
      key<T::boolean, &C::backgroundmigrations, &Bbm::throttle, &Throttle::walarchive, &ThrottleWalArchive::enabled>(
          "database.backgroundmigrations.throttle.walarchive.enabled",
          "throttle on the WAL archive backlog",
          {.reloadable = true}),
      key<T::integer, &C::backgroundmigrations, &Bbm::throttle, &Throttle::walarchive, &ThrottleWalArchive::maxsegments>(
          "database.backgroundmigrations.throttle.walarchive.maxsegments",
          "completed WAL segments not yet archived before throttling",
          {.reloadable = true, .range = at_least(0)}),
      key<T::boolean, &C::backgroundmigrations, &Bbm::throttle, &Throttle::walrate, &ThrottleWalRate::enabled>(
          "database.backgroundmigrations.throttle.walrate.enabled",
          "throttle on the WAL generation rate (pg_stat_wal)",
          {.reloadable = true}),
      key<T::number, &C::backgroundmigrations, &Bbm::throttle, &Throttle::walrate, &ThrottleWalRate::maxbytespersecond>(
          "database.backgroundmigrations.throttle.walrate.maxbytespersecond",
          "WAL bytes per second before throttling",
          {.reloadable = true, .range = at_least(0)}),
      key<T::boolean, &C::backgroundmigrations, &Bbm::throttle, &Throttle::replicationlag, &ThrottleReplicationLag::enabled>(
          "database.backgroundmigrations.throttle.replicationlag.enabled",
          "throttle on standby replay lag (pg_stat_replication)",
          {.reloadable = true}),
      key<T::duration, &C::backgroundmigrations, &Bbm::throttle, &Throttle::replicationlag, &ThrottleReplicationLag::maxlag>(
          "database.backgroundmigrations.throttle.replicationlag.maxlag",
          "replay_lag of any standby before throttling",
          {.reloadable = true}),
      key<T::number, &C::backgroundmigrations, &Bbm::throttle, &Throttle::replicationlag, &ThrottleReplicationLag::maxbytes>(
          "database.backgroundmigrations.throttle.replicationlag.maxbytes",
          "WAL bytes any standby has not replayed before throttling",
          {.reloadable = true, .range = at_least(0)}),
      key<T::boolean, &C::backgroundmigrations, &Bbm::throttle, &Throttle::slotretention, &ThrottleSlotRetention::enabled>(
          "database.backgroundmigrations.throttle.slotretention.enabled",
          "throttle on WAL retained by replication slots",
          {.reloadable = true}),
      key<T::number, &C::backgroundmigrations, &Bbm::throttle, &Throttle::slotretention, &ThrottleSlotRetention::maxbytes>(
          "database.backgroundmigrations.throttle.slotretention.maxbytes",
          "WAL bytes the worst replication slot retains before throttling",
          {.reloadable = true, .range = at_least(0)}),
      key<T::boolean, &C::backgroundmigrations, &Bbm::throttle, &Throttle::autovacuum, &ThrottleAutovacuum::enabled>(
          "database.backgroundmigrations.throttle.autovacuum.enabled",
          "wait while (auto)vacuum runs on the target table",
          {.reloadable = true}),
      key<T::boolean, &C::backgroundmigrations, &Bbm::throttle, &Throttle::lockwaiters, &ThrottleLockWaiters::enabled>(
          "database.backgroundmigrations.throttle.lockwaiters.enabled",
          "throttle when sessions waited on the last batch's locks",
          {.reloadable = true}),
      key<T::integer, &C::backgroundmigrations, &Bbm::throttle, &Throttle::lockwaiters, &ThrottleLockWaiters::maxwaiters>(
          "database.backgroundmigrations.throttle.lockwaiters.maxwaiters",
          "waiting sessions tolerated before throttling",
          {.reloadable = true, .range = at_least(0)}),
      key<T::boolean, &C::backgroundmigrations, &Bbm::throttle, &Throttle::oldesttransaction, &ThrottleOldestTransaction::enabled>(
          "database.backgroundmigrations.throttle.oldesttransaction.enabled",
          "throttle on the age of the oldest running transaction",
          {.reloadable = true}),
      key<T::duration, &C::backgroundmigrations, &Bbm::throttle, &Throttle::oldesttransaction, &ThrottleOldestTransaction::maxage>(
          "database.backgroundmigrations.throttle.oldesttransaction.maxage",
          "age of the oldest transaction before throttling",
          {.reloadable = true}),
      key<T::path, &C::migrations, &Migrations::pre>("database.migrations.pre",
                                                     "folder of pre-deployment migrations"),
      key<T::path, &C::migrations, &Migrations::post>("database.migrations.post",
                                                      "folder of post-deployment migrations"),
      key<T::string, &C::log, &Log::level>("log.level", "least severe level written",
                                           {.reloadable = true,
                                            .choices = {"trace", "debug", "info", "warn", "error"}}),
      key<T::string, &C::log, &Log::formatter>("log.formatter", "log line format",
                                               {.choices = {"json", "text"}}),
      key<T::string_map, &C::log, &Log::fields>("log.fields",
                                                "names and values added to every log line (the registry's key)"),
      key<T::string, &C::http_debug, &HttpDebug::addr>("http.debug.addr",
                                                       "metrics and health listener host:port (empty: off)"),
      key<T::boolean, &C::http_debug, &HttpDebug::prometheus_enabled>("http.debug.prometheus.enabled",
                                                                      "serve Prometheus metrics"),
      key<T::string, &C::http_debug, &HttpDebug::prometheus_path>("http.debug.prometheus.path",
                                                                  "URL path of the metrics"),
      key<T::string, &C::http_debug, &HttpDebug::admin_token>(
          "http.debug.admin.token", "bearer token for the admin API's pause/resume/retry (empty: disabled)",
          {.secret = true}),
  };
}

std::string number_text(double v) {
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;  // shortest form: "2", "0.25"
  return std::string(buf, end);
}

template <typename A, typename B>
bool same_value(const A* a, const B* b) {
  if constexpr (std::is_same_v<A, B>) {
    return *a == *b;
  } else {
    return false;  // unreachable: both sides come from the same row
  }
}

}  // namespace

const std::vector<KeyInfo>& keys() {
  static const std::vector<KeyInfo> table = build_table();
  return table;
}

const KeyInfo* find_key(std::string_view path) {
  const auto& table = keys();
  const auto it = std::find_if(table.begin(), table.end(), [&](const KeyInfo& k) { return k.path == path; });
  return it == table.end() ? nullptr : &*it;
}

std::string_view type_name(KeyType type) {
  switch (type) {
    case KeyType::string: return "a string";
    case KeyType::integer:
    case KeyType::port_list: return "an integer";
    case KeyType::boolean: return "a boolean (true/false)";
    case KeyType::duration: return "a duration (e.g. \"10s\", \"1m30s\")";
    case KeyType::number: return "a number";
    case KeyType::path: return "a path";
    case KeyType::string_map: return "a mapping of names to values";
  }
  return "a value";
}

std::string env_name(std::string_view path) {
  std::string name = "REGISTRY_";
  for (char c : path) {
    name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

std::string display(const KeyInfo& key, const Config& config) {
  if (key.type == KeyType::port_list) return port_text(config.database);
  return std::visit(
      [&](const auto* v) -> std::string {
        using V = std::remove_cvref_t<decltype(*v)>;
        if constexpr (std::is_same_v<V, std::string>) {
          return key.secret && !v->empty() ? "<redacted>" : *v;
        } else if constexpr (std::is_same_v<V, std::filesystem::path>) {
          return v->string();
        } else if constexpr (std::is_same_v<V, bool>) {
          return *v ? "true" : "false";
        } else if constexpr (std::is_same_v<V, Duration>) {
          return format_duration(*v);
        } else if constexpr (std::is_same_v<V, double>) {
          return number_text(*v);
        } else if constexpr (std::is_same_v<V, StringMap>) {
          // JSON is YAML too: the text reads back as the same map. Bytes that are not UTF-8 print
          // as U+FFFD, as on log lines (log/format.cpp), instead of throwing.
          return nlohmann::json(*v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        } else {
          return std::to_string(*v);
        }
      },
      key.read(config));
}

std::vector<std::string> changed_non_reloadable(const Config& old, const Config& now) {
  std::vector<std::string> changed;
  for (const auto& key : keys()) {
    if (key.reloadable) continue;
    const bool same = key.type == KeyType::port_list
                          ? port_text(old.database) == port_text(now.database)
                          : std::visit([](const auto* a, const auto* b) { return same_value(a, b); }, key.read(old),
                                       key.read(now));
    if (!same) changed.emplace_back(key.path);
  }
  return changed;
}

void copy_reloadable(const Config& from, Config& to) {
  for (const auto& key : keys()) {
    if (!key.reloadable) continue;
    std::visit(
        [](auto* dst, const auto* src) {
          if constexpr (std::is_same_v<std::remove_cvref_t<decltype(*dst)>, std::remove_cvref_t<decltype(*src)>>) {
            *dst = *src;
          }
        },
        key.field(to), key.read(from));
  }
}

}  // namespace bbmd::config

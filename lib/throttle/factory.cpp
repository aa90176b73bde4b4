// Throttle::from_config: which indicators the config enables, in what order, and which are cached.
#include <utility>

#include "throttle/indicators.hpp"
#include "throttle/throttle.hpp"

namespace bbmd::throttle {

// Order: free checks first (no round trip), then cluster-wide ones (cached, so usually free),
// then the per-table vacuum check. The first stop wins, so a cheap stop saves the rest.
Throttle Throttle::from_config(const config::Config& cfg, metrics::Metrics& metrics) {
  const auto& t = cfg.backgroundmigrations.throttle;
  const milliseconds ttl = t.checkinterval;
  auto cache = [&](std::unique_ptr<Indicator> inner, CacheScope scope) {
    return ttl.count() > 0 ? cached(std::move(inner), ttl, scope) : std::move(inner);
  };

  std::vector<std::unique_ptr<Indicator>> list;
  if (!t.flagfile.empty()) list.push_back(make_flag_file(t.flagfile));
  if (t.lockwaiters.enabled) list.push_back(make_lock_waiters(t.lockwaiters.maxwaiters));
  if (t.walarchive.enabled) list.push_back(cache(make_wal_archive(t.walarchive.maxsegments), CacheScope::cluster));
  if (t.replicationlag.enabled) {
    list.push_back(cache(needs_stats_access(make_replication_lag(t.replicationlag.maxlag, t.replicationlag.maxbytes),
                                            "pg_stat_replication"),
                         CacheScope::cluster));
  }
  if (t.slotretention.enabled) {
    list.push_back(cache(make_slot_retention(t.slotretention.maxbytes), CacheScope::cluster));
  }
  if (t.oldesttransaction.enabled) {
    list.push_back(cache(needs_stats_access(make_oldest_transaction(t.oldesttransaction.maxage), "pg_stat_activity"),
                         CacheScope::cluster));
  }
  // Not cached: it must see each batch's WAL before the next batch (one cheap query per batch),
  // and answers from memory while a pause is owed.
  if (t.walrate.enabled) list.push_back(make_wal_rate(t.walrate.maxbytespersecond));
  if (!t.query.empty()) list.push_back(cache(make_sql_check(t.query, t.querytimeout), CacheScope::cluster));
  if (t.autovacuum.enabled) {
    list.push_back(cache(needs_stats_access(make_autovacuum(), "pg_stat_progress_vacuum"), CacheScope::table));
  }
  return Throttle(std::move(list), metrics, 3 * cfg.backgroundmigrations.backoff.max);
}

}  // namespace bbmd::throttle

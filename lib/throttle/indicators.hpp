#pragma once
// Constructors of the built-in indicators (one .cpp each) and the caching decorator. The worker
// never needs these directly: Throttle::from_config picks and wires them from the config.
//
// What each needs from the connection's role: pg_stat_replication's LSNs, other sessions'
// pg_stat_activity rows and pg_stat_progress_vacuum's relid are hidden from roles without
// pg_read_all_stats (pg_monitor has it). from_config wraps those indicators in
// needs_stats_access, so a role without it gets a logged, counted error instead of a blind "go".
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "throttle/indicator.hpp"

namespace bbmd::throttle {

using Clock = std::chrono::steady_clock;
using Now = std::function<Clock::time_point()>;  // injected so tests can move time
using std::chrono::milliseconds;

// Stop while more than `max_segments` completed WAL segments wait for archive_command.
[[nodiscard]] std::unique_ptr<Indicator> make_wal_archive(std::int64_t max_segments);
// Paces batches so that the WAL written stays at the ceiling: after a batch, stops for as long
// as its WAL takes at that rate (Stop::pause). Not cached: it keeps its own state.
[[nodiscard]] std::unique_ptr<Indicator> make_wal_rate(double max_bytes_per_second, Now now = Clock::now);
// Stop while any standby's replay_lag exceeds `max_lag` or its unreplayed WAL exceeds `max_bytes`.
[[nodiscard]] std::unique_ptr<Indicator> make_replication_lag(milliseconds max_lag, double max_bytes);
// Stop while a replication slot holds back more than `max_bytes` of WAL.
[[nodiscard]] std::unique_ptr<Indicator> make_slot_retention(double max_bytes);
// Stop while a VACUUM (auto, wraparound or manual) runs on the target table.
[[nodiscard]] std::unique_ptr<Indicator> make_autovacuum();
// Stop when more than `max_waiters` sessions waited on the previous batch's locks.
[[nodiscard]] std::unique_ptr<Indicator> make_lock_waiters(std::int64_t max_waiters);
// Stop while another client transaction has been open longer than `max_age`.
[[nodiscard]] std::unique_ptr<Indicator> make_oldest_transaction(milliseconds max_age);
// Stop while the operator's SQL returns true; it runs under statement_timeout = `timeout`.
[[nodiscard]] std::unique_ptr<Indicator> make_sql_check(std::string sql, milliseconds timeout);
// Stop while the file exists.
[[nodiscard]] std::unique_ptr<Indicator> make_flag_file(std::filesystem::path path);

// Fails (never says go) unless the role may read other sessions' statistics in `view`; otherwise
// asks `inner`.
[[nodiscard]] std::unique_ptr<Indicator> needs_stats_access(std::unique_ptr<Indicator> inner, std::string view);

// Whose answer a cached indicator may reuse: any batch's (cluster-wide signals) or only one
// for the same target table.
enum class CacheScope { cluster, table };
// Reuses `inner`'s last answer (a stop, a go, or an error that did not break the connection)
// for `ttl`, so a fast worker does not ask the server before every batch.
[[nodiscard]] std::unique_ptr<Indicator> cached(std::unique_ptr<Indicator> inner, milliseconds ttl, CacheScope scope,
                                                Now now = Clock::now);

}  // namespace bbmd::throttle

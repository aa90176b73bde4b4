#pragma once
// The stable reason labels indicators report: metric label values and hold codes, so never rename.
#include <array>
#include <string_view>

namespace bbmd::throttle::reasons {

inline constexpr std::string_view kWalArchiveBacklog = "wal_archive_backlog";
inline constexpr std::string_view kWalRate = "wal_rate";
inline constexpr std::string_view kReplicationLag = "replication_lag";
inline constexpr std::string_view kSlotRetention = "replication_slot_retention";
inline constexpr std::string_view kAutovacuum = "autovacuum";
inline constexpr std::string_view kLockWaiters = "lock_waiters";
inline constexpr std::string_view kOldestTransaction = "oldest_transaction";
inline constexpr std::string_view kSqlCheck = "sql_check";
inline constexpr std::string_view kFlagFile = "flag_file";

// Every reason, so that metrics export each one from the start.
inline constexpr std::array<std::string_view, 9> kAll{kWalArchiveBacklog, kWalRate,         kReplicationLag,
                                                      kSlotRetention,     kAutovacuum,      kLockWaiters,
                                                      kOldestTransaction, kSqlCheck,        kFlagFile};

}  // namespace bbmd::throttle::reasons

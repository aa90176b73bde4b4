// The schema migration lock: an advisory lock held by an open transaction (migration_lock.hpp).
#include "schema/migration_lock.hpp"

#include <cstdint>
#include <vector>

#include "db/connection.hpp"

namespace bbmd::schema {

namespace {

// Any fixed number works; this one spells "bbmd" in ASCII so it is recognisable in pg_locks.
constexpr std::int64_t kAdvisoryLockKey = 0x62626d64;

// The holder is idle in transaction for the whole command by design: a server-wide
// idle_in_transaction_session_timeout must not end it (and the lock) halfway. A utility
// statement, and the last one sent: the extended protocol keeps the last statement's portal
// open, and a SELECT's portal keeps its snapshot, which would hold back the xmin horizon and
// make every CREATE INDEX CONCURRENTLY of the command wait for this transaction forever.
constexpr const char* kKeepIdle = "SET LOCAL idle_in_transaction_session_timeout = 0";

}  // namespace

MigrationLock::MigrationLock(std::unique_ptr<db::Connection> conn) : conn_(std::move(conn)) {}
MigrationLock::MigrationLock(MigrationLock&&) noexcept = default;
MigrationLock& MigrationLock::operator=(MigrationLock&&) noexcept = default;
MigrationLock::~MigrationLock() = default;

boost::asio::awaitable<MigrationLock> MigrationLock::acquire(std::unique_ptr<db::Connection> conn) {
  std::vector<db::Statement> statements;
  statements.push_back(db::Statement{"BEGIN", {}});
  statements.push_back(conn->transaction_settings());
  statements.push_back(db::Statement{"SELECT pg_advisory_xact_lock($1)", db::Params{kAdvisoryLockKey}});
  statements.push_back(db::Statement{kKeepIdle, {}});
  co_await conn->pipeline("schema_lock", statements);
  co_return MigrationLock(std::move(conn));
}

void MigrationLock::ensure_held(const std::string& next) {
  if (conn_ && conn_->still_connected()) return;
  throw MigrationLockLost("the session holding the schema migration lock has ended; stopped before " + next +
                          " (run the command again)");
}

boost::asio::awaitable<void> MigrationLock::release() {
  co_await conn_->query("schema_unlock", "COMMIT");
  conn_.reset();
}

}  // namespace bbmd::schema

#pragma once
// The lock that serialises schema migration commands (a fleet of pods starting at once), so two
// concurrent `migrate up` never both apply a migration. A transaction-level advisory lock, held
// by a transaction left open on a connection of its own for the whole command: unlike a
// session-level lock it stays with its holder behind a transaction pooler (an open transaction
// keeps its server session; a session lock would stay on whichever session took it, for any
// client the pooler hands that session to next). A crashed or vanished holder releases it: the
// server, or the pooler, ends the transaction with its connection.
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <stdexcept>
#include <string>

namespace bbmd::db {
class Connection;
}

namespace bbmd::schema {

// The session holding the lock has ended: what runs on from here is no longer serialised.
class MigrationLockLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class MigrationLock {
 public:
  // Waits (as long as it takes) for the lock on `conn`, which it keeps until release().
  static boost::asio::awaitable<MigrationLock> acquire(std::unique_ptr<db::Connection> conn);

  MigrationLock(MigrationLock&&) noexcept;
  MigrationLock& operator=(MigrationLock&&) noexcept;
  ~MigrationLock();  // closes the connection: the server ends the transaction and the lock

  // Before each change: throws MigrationLockLost naming `next` if the holding session is gone
  // (its connection closed or the server ended it). Reads only what already arrived: no wait.
  void ensure_held(const std::string& next);

  // Commits the holding transaction, which releases the lock.
  boost::asio::awaitable<void> release();

 private:
  explicit MigrationLock(std::unique_ptr<db::Connection> conn);
  std::unique_ptr<db::Connection> conn_;
};

}  // namespace bbmd::schema

#pragma once
// The names a session's pipeline statements run under as prepared statements, keyed by SQL
// text: each is parsed once per session instead of once per job (the lease statement alone
// took ~1 ms to parse and plan), bounded so that per-migration statements cannot pile up.
//
// Each name is retired after kReplanAfterUses uses and the statement prepared afresh under a
// new one. PostgreSQL keeps a prepared statement's generic plan for the whole session, costed
// with the table sizes of its first executions, and keeps comparing later plans with those
// first costs. bbmd's job table can grow from what its statistics call empty (emptied and
// vacuumed) to thousands of rows in one session; plans fitted to a one-page table then scan the
// whole table for every lookup by key (a job's fence went from 20 us to 155 us per job, 2,000
// jobs in). A new name is a new plan cache entry, planned for the table as it is now.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bbmd::db {

class StatementCache {
 public:
  static constexpr std::size_t kCapacity = 64;
  static constexpr std::uint32_t kReplanAfterUses = 500;

  // Names are `prefix` + a number. db::Connection gives each connection a prefix of its own, so
  // that behind a transaction pooler no connection can run a statement another one prepared
  // under the same name on a shared server session: a foreign session lacks the name instead.
  explicit StatementCache(std::string prefix = "bbmd_") : prefix_(std::move(prefix)) {}

  struct Use {
    std::string name;
    bool parse = false;  // the statement's Parse must be queued before it runs under `name`
  };

  // The name `sql` runs under now; nullopt: run it unnamed (the session holds kCapacity).
  std::optional<Use> use(const std::string& sql);

  // The server does not hold the statement (its Parse failed or was skipped): parse it again
  // on its next use.
  void forget(const std::string& sql);

  // Retired names the server still holds, to DEALLOCATE; the caller hands back with retire()
  // any it could not.
  std::vector<std::string> take_retired();
  void retire(std::string name);

 private:
  struct Entry {
    std::string name;
    std::uint32_t uses = 0;
  };
  std::string prefix_;
  std::unordered_map<std::string, Entry> entries_;
  std::vector<std::string> retired_;
  std::uint64_t next_ = 0;
};

}  // namespace bbmd::db

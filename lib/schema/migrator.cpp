// Applying schema migrations and recording them (see migrator.hpp).
#include "schema/migrator.hpp"

#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "db/connection.hpp"
#include "db/transaction.hpp"

namespace bbmd::schema {

namespace {

// Any fixed number works; this one spells "bbmd" in ASCII so it is recognisable in pg_locks.
constexpr std::int64_t kAdvisoryLockKey = 0x62626d64;

constexpr const char* kCreateRecords = R"(
CREATE TABLE IF NOT EXISTS schema_migrations (
    id text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now(),
    duration_ms bigint,
    applied_by text
);
CREATE TABLE IF NOT EXISTS post_deploy_schema_migrations (
    id text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now(),
    duration_ms bigint,
    applied_by text
);)";

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

boost::asio::awaitable<void> record(db::Connection& conn, Kind kind, const std::string& version,
                                    std::chrono::milliseconds took) {
  co_await conn.query("schema_record_migration",
                      std::string("INSERT INTO ") + records_table(kind) +
                          " (id, applied_at, duration_ms, applied_by) VALUES ($1, now(), $2, $3)",
                      version, static_cast<std::int64_t>(took.count()), hostname());
}

}  // namespace

const char* records_table(Kind kind) noexcept {
  return kind == Kind::pre ? "schema_migrations" : "post_deploy_schema_migrations";
}

const char* kind_name(Kind kind) noexcept { return kind == Kind::pre ? "pre_deployment" : "post_deployment"; }

boost::asio::awaitable<void> ensure_records(db::Connection& conn) {
  co_await conn.execute_script("schema_create_records", kCreateRecords);
}

boost::asio::awaitable<std::set<std::string>> applied_versions(db::Connection& conn, Kind kind) {
  auto r = co_await conn.query("schema_applied_versions", std::string("SELECT id FROM ") + records_table(kind));
  std::set<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.insert(r.get_string(i, 0));
  co_return out;
}

boost::asio::awaitable<std::vector<Applied>> apply_pending(db::Connection& conn, Kind kind,
                                                           const std::vector<MigrationFile>& all,
                                                           const std::function<void(const std::string&)>& on_start) {
  const auto done = co_await applied_versions(conn, kind);
  std::vector<Applied> applied;
  for (const auto& m : all) {
    if (done.count(m.version)) continue;
    if (on_start) on_start(m.version);
    const auto start = std::chrono::steady_clock::now();
    std::string failure;
    try {
      if (m.directives.no_transaction) {
        co_await conn.execute_script("schema_migration_up", m.up_sql);
        co_await record(conn, kind, m.version, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::steady_clock::now() - start));
      } else {
        co_await db::in_transaction(conn, [&]() -> boost::asio::awaitable<void> {
          co_await conn.execute_script("schema_migration_up", m.up_sql);
          co_await record(conn, kind, m.version, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                     std::chrono::steady_clock::now() - start));
        });
      }
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) throw std::runtime_error("migration " + m.version + " failed: " + failure);
    applied.push_back({m.version, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
  }
  co_return applied;
}

boost::asio::awaitable<void> lock_migrations(db::Connection& conn) {
  co_await conn.query("schema_lock", "SELECT pg_advisory_lock($1)", kAdvisoryLockKey);
}

boost::asio::awaitable<void> unlock_migrations(db::Connection& conn) {
  co_await conn.query("schema_unlock", "SELECT pg_advisory_unlock($1)", kAdvisoryLockKey);
}

}  // namespace bbmd::schema

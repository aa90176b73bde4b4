#pragma once
// A throwaway database per test, plus blocking libpq helpers to set up and inspect it.
//
// Needs a disposable PostgreSQL server reachable through the standard libpq variables
// PGHOST, PGPORT, PGUSER, PGPASSWORD (defaults localhost, 5432, postgres, none). CI runs:
//   pg_virtualenv -v 15 build/bbmd_integration_tests
//
//   bbmd::test::TestDatabase db;                 // CREATE DATABASE bbmd_t_<pid>_<n>
//   db.exec("CREATE TABLE t (id bigint)");
//   CHECK(db.count("SELECT count(*) FROM t") == 0);
//   auto cfg = db.config();                      // point bbmd at it
//                                                // ~TestDatabase: DROP DATABASE ... WITH (FORCE)
//
// The helpers block the calling thread; that is fine in tests, never do it on a loop that also
// serves the code under test for long. They share ONE session, so SET and open transactions
// persist between calls.
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

struct pg_conn;

namespace bbmd::test {

class TestDatabase {
 public:
  TestDatabase();   // creates the database; throws std::runtime_error if the server is unreachable
  ~TestDatabase();  // drops it, terminating any session still connected
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  // Connection settings for bbmd (password included; sslmode from PGSSLMODE, else "prefer").
  [[nodiscard]] config::Database config() const;
  // libpq conninfo string for this database, e.g. for `psql "<conninfo>"`.
  [[nodiscard]] std::string conninfo() const;

  // Runs SQL (may be several statements); throws std::runtime_error with the server message.
  void exec(const std::string& sql);
  // First cell of the first row; "" for NULL; throws if there are no rows.
  [[nodiscard]] std::string scalar(const std::string& sql);
  // Every row as text, NULL as the literal string "NULL".
  [[nodiscard]] std::vector<std::vector<std::string>> rows(const std::string& sql);
  // scalar() parsed as an integer, e.g. count("SELECT count(*) FROM t").
  [[nodiscard]] long long count(const std::string& sql);

 private:
  struct ConnDeleter {
    void operator()(pg_conn* c) const noexcept;
  };
  pg_conn* session();
  std::string name_;
  std::unique_ptr<pg_conn, ConnDeleter> session_;
};

// Settings for a server that refuses every connection: a local port that was free a moment ago.
config::Database refusing_database();

}  // namespace bbmd::test

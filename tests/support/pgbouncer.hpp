#pragma once
// A real PgBouncer (Debian's pgbouncer 1.18, /usr/sbin/pgbouncer) in front of a test server,
// started by the test as a child process: its stock settings except the listen port, a folder
// of its own, the server's credentials, and the pool mode (transaction pooling by default, as
// large registry fleets run it).
//
//   bbmd::test::TestDatabase db;
//   bbmd::test::PgBouncer bouncer(db.config());  // started; accepts connections once constructed
//   auto cfg = bouncer.config(db.name());        // bbmd's settings for that database, through it
//   bouncer.admin("PAUSE");  bouncer.admin("RESUME");  bouncer.restart();   // faults
//                                                // destructor: SIGTERM, wait, folder removed
//
// The server's role is PgBouncer's admin user, so admin() reaches its console (dbname pgbouncer).
//
// PgBouncer refuses to run as root: as root (this machine, CI's deploy/test.sh) it is started
// with `-u postgres` and drops to that user itself; as anyone else, as that user.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace bbmd::test {

struct PgBouncerOptions {
  std::string pool_mode = "transaction";
  std::vector<std::string> settings;  // more [pgbouncer] lines, e.g. "default_pool_size = 2"
};

class PgBouncer {
 public:
  using Options = PgBouncerOptions;

  // Throws std::runtime_error with PgBouncer's log if it does not start or accept in time.
  explicit PgBouncer(const config::Database& server, Options options = {});
  ~PgBouncer();
  PgBouncer(const PgBouncer&) = delete;
  PgBouncer& operator=(const PgBouncer&) = delete;

  [[nodiscard]] int port() const noexcept { return port_; }
  // The server's settings for `dbname`, pointed at PgBouncer (loopback TCP, no TLS).
  [[nodiscard]] config::Database config(const std::string& dbname) const;
  [[nodiscard]] std::string log() const;

  // Runs one admin console command ("PAUSE", "RESUME", "RECONNECT", "SHOW POOLS") and returns
  // its rows, each cell as text; throws std::runtime_error with PgBouncer's message.
  std::vector<std::vector<std::string>> admin(const std::string& command) const;
  // SIGTERM (PgBouncer's immediate shutdown: client and server connections are cut, open
  // transactions with them), then started again on the same port; returns once it accepts.
  void restart();

 private:
  void write_files(const Options& options);
  bool launch();  // false: it exited before accepting (the port was taken meanwhile)
  void stop() noexcept;

  config::Database server_;
  std::filesystem::path dir_;  // pgbouncer.ini, userlist.txt, pgbouncer.log, its unix socket
  int port_ = 0;
  struct Child;  // the Boost.Process child, kept out of this header
  std::unique_ptr<Child> child_;
};

}  // namespace bbmd::test

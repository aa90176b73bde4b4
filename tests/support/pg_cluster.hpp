#pragma once
// A throwaway PostgreSQL 15 cluster of its own, for tests that need server settings the shared
// pg_virtualenv server cannot have (archive_mode, a small wal_segment_size, a streaming standby).
//
//   bbmd::test::PgCluster primary({.initdb_args = {"--wal-segsize=1"}, .settings = {"archive_mode = on"}});
//   auto standby = primary.create_standby();     // pg_basebackup -R, started, streaming soon
//   standby->scalar("SELECT pg_is_in_recovery()");  // "t"
//   primary.kill9();  standby->promote();       // a failover: the primary's host is gone
//   primary.stop("fast");  standby->promote();  primary.rejoin_as_standby(*standby);  // switchover
//                                                // destructors: pg_ctl stop -m immediate, rm -rf
//
// Tests run as root, PostgreSQL refuses to: initdb/pg_ctl/pg_basebackup run as the `postgres`
// OS user (runuser) in a temporary folder owned by it. Each cluster listens on a free loopback
// port and on a unix socket in its folder, with trust authentication.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace bbmd::test {

class PgCluster {
 public:
  struct Options {
    std::vector<std::string> initdb_args;  // e.g. "--wal-segsize=1" (MB)
    std::vector<std::string> settings;     // postgresql.conf lines, e.g. "archive_mode = on"
  };

  explicit PgCluster(Options options = {});  // initdb + start; throws std::runtime_error with the log
  ~PgCluster();                              // stop (immediate) and remove the folder
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // A streaming standby of this server (pg_basebackup -R -X stream), started.
  [[nodiscard]] std::unique_ptr<PgCluster> create_standby(const std::vector<std::string>& settings = {});

  // `pg_ctl stop -m <mode>` ("fast" or "immediate"), then `while_down()`, then start again on
  // the same port; the server is started again even if while_down throws.
  void restart(const std::string& mode, const std::function<void()>& while_down = {});

  // SIGKILL to the postmaster and every process it started, all stopped first so none outlives
  // the others (as when the host dies); the folder stays, for rejoin_as_standby.
  void kill9();
  // `pg_ctl stop -m <mode>`; the server stays down.
  void stop(const std::string& mode);
  // Whether the postmaster runs (`pg_ctl status`): after a PANIC it may have given up.
  [[nodiscard]] bool postmaster_running() const;
  // `pg_ctl start` on the same port, for a server that stopped or gave up on its own.
  void start_again();
  // The server's log so far.
  [[nodiscard]] std::string log() const;
  // `pg_ctl promote -w`: returns once this standby accepts writes.
  void promote();
  // This stopped (or killed) former primary becomes a streaming standby of `primary`: pg_rewind
  // rewinds whatever it wrote that `primary` never got and writes the standby settings (-R);
  // then it starts on its old port. Needs wal_log_hints = on (or checksums) from initdb on.
  void rejoin_as_standby(const PgCluster& primary);

  [[nodiscard]] int port() const noexcept { return port_; }
  // Settings for bbmd's own connections (user postgres, over loopback TCP).
  [[nodiscard]] config::Database config(const std::string& dbname = "postgres") const;
  [[nodiscard]] std::string conninfo(const std::string& dbname = "postgres") const;

  // Blocking helpers, each on a fresh connection (safe from several threads).
  void exec(const std::string& sql, const std::string& dbname = "postgres") const;
  [[nodiscard]] std::string scalar(const std::string& sql, const std::string& dbname = "postgres") const;

 private:
  struct Standby {};
  PgCluster(Standby, const PgCluster& primary, const std::vector<std::string>& settings);
  void make_dir();
  void configure(const std::vector<std::string>& settings);
  void start();
  void launch();  // pg_ctl start on the configured port

  std::filesystem::path dir_;   // owned by postgres; holds data/, the socket and server.log
  std::filesystem::path data_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace bbmd::test

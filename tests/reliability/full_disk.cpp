// Scenario full_disk: the server's pg_wal lives on a small tmpfs of its own, an inactive
// replication slot keeps every WAL segment (as a forgotten slot does), and while `bbmd serve`
// migrates a table a filler file takes all but a little of the space, so the WAL volume fills
// mid-run. bbmd must show it (a log line naming the full disk or the crash it caused, /readyz
// not 200) and keep running; once space returns (the filler and the slot
// go, the server is started again if it gave up) it must finish the migration with every row
// changed exactly once. Where the machine cannot mount a tmpfs the scenario is skipped, saying why.
#include <fcntl.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "e2e/e2e_helpers.hpp"
#include "reliability/suite.hpp"
#include "reliability/workload.hpp"
#include "support/pg_cluster.hpp"
#include "support/poll.hpp"

namespace bbmd::reliability {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDatabase = "disk";
constexpr const char* kTable = "walled";
constexpr long kRows = 50000;
constexpr int kBatchSize = 1000;
constexpr long kFilesystemMb = 48;
constexpr long kLeaveFreeKb = 512;  // what the filler leaves: less than one 1 MB segment
constexpr auto kFillDeadline = 60s;
constexpr auto kFinishDeadline = 90s;

// Lines that say the WAL volume is full, in the server's log and in bbmd's. bbmd must name the
// condition (db::server_condition's words), not only say that a connection was lost: out of disk
// space when its own backend hit the full volume (a PANIC with 53100), a crash when another
// process did (the 57P02 warning every other backend sends before it exits).
const std::vector<std::string> kServerFull = {"No space left on device"};
const std::vector<std::string> kBbmdNamed = {"the database server is out of disk space",
                                             "the database server crashed"};

bool contains_any(const std::string& text, const std::vector<std::string>& needles) {
  for (const auto& n : needles) {
    if (text.find(n) != std::string::npos) return true;
  }
  return false;
}

// The first log line holding one of `needles`, from that needle on.
std::string first_line_with(const std::string& log, const std::vector<std::string>& needles) {
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    for (const auto& n : needles) {
      const auto at = line.find(n);
      if (at != std::string::npos) return line.substr(at, 240);
    }
  }
  return "(nothing)";
}

// A tmpfs of its own, handed to the postgres user; unmounted (lazily) at the end.
class SmallFilesystem {
 public:
  // nullptr and `why` set when this machine cannot mount one.
  static std::unique_ptr<SmallFilesystem> mount(long megabytes, std::string& why) {
    std::string pattern = (std::filesystem::temp_directory_path() / "bbmd-wal-XXXXXX").string();
    if (!mkdtemp(pattern.data())) {
      why = std::string("mkdtemp: ") + std::strerror(errno);
      return nullptr;
    }
    const std::string options = "size=" + std::to_string(megabytes) + "m,mode=0700";
    if (::mount("tmpfs", pattern.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      why = std::string("mount -t tmpfs: ") + std::strerror(errno) + " (needs root with CAP_SYS_ADMIN)";
      rmdir(pattern.c_str());
      return nullptr;
    }
    auto fs = std::unique_ptr<SmallFilesystem>(new SmallFilesystem(pattern));
    const passwd* pw = getpwnam("postgres");
    if (!pw || chown(pattern.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      why = "cannot hand the tmpfs to the postgres user";
      return nullptr;
    }
    return fs;
  }
  ~SmallFilesystem() {
    umount2(path_.c_str(), MNT_DETACH);
    rmdir(path_.c_str());
  }
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] long free_bytes() const {
    struct statvfs s {};
    statvfs(path_.c_str(), &s);
    return static_cast<long>(s.f_bavail * s.f_frsize);
  }
  // Takes all the free space but `leave` bytes with one file, in steps, since the server's WAL
  // takes space meanwhile (a step that finds it gone is tried again smaller); false if it could not.
  bool fill(long leave) {
    constexpr long kStep = 4 * 1048576;
    const int fd = open(filler().c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    long size = 0;
    for (int tries = 0; tries < 1000; ++tries) {
      const long room = free_bytes() - leave;
      if (room <= 0) break;
      const long step = std::min(room, kStep);
      if (posix_fallocate(fd, size, step) == 0) size += step;
    }
    close(fd);
    return free_bytes() <= leave;
  }
  void unfill() { std::filesystem::remove(filler()); }

 private:
  explicit SmallFilesystem(std::filesystem::path path) : path_(std::move(path)) {}
  [[nodiscard]] std::filesystem::path filler() const { return path_ / "filler"; }
  std::filesystem::path path_;
};

std::filesystem::path wal_dir(const SmallFilesystem& fs, int n) { return fs.path() / ("wal" + std::to_string(n)); }

std::string sql(const test::PgCluster& server, const std::string& query) { return server.scalar(query, kDatabase); }

long finished_jobs(const test::PgCluster& server) {
  return std::stol(sql(server, "SELECT count(*) FROM background_migration_jobs WHERE status = 2"));
}

// Each call a fresh connection: false while the server is down or refuses.
bool answers(const test::PgCluster& server) {
  try {
    return server.scalar("SELECT 1") == "1";
  } catch (const std::runtime_error&) {
    return false;
  }
}

void run_fill(SmallFilesystem& fs, int n, Tally& tally) {
  const std::string what = "full_disk #" + std::to_string(n);
  std::printf("-- %s: pg_wal on a %ld MB tmpfs, filled to %ld KB free mid-run\n", what.c_str(), kFilesystemMb,
              kLeaveFreeKb);
  std::fflush(stdout);
  test::PgCluster server({.initdb_args = {"--waldir=" + wal_dir(fs, n).string(),
                                          "--wal-segsize=1"},
                          .settings = {"min_wal_size = 2MB", "max_wal_size = 4MB"}});
  server.exec(std::string("CREATE DATABASE ") + kDatabase);
  test::ConfigFile cfg(server.config(kDatabase), {{"database.backgroundmigrations.workers", "2"},
                                                  {"database.backgroundmigrations.maxjobspertable", "2"},
                                                  {"database.backgroundmigrations.maxjobretries", "20"},
                                                  {"database.connecttimeout", "2s"}});
  write_touch_function(cfg, "touch", "0.02");
  const auto migrate = test::run_bbmd({"database", "migrate", "up", cfg.path()}, 60s);
  if (!tally.expect(migrate.exit_code == 0, what + ": migrate up failed: " + migrate.err)) return;
  server.exec(counted_migration_sql("20260101000000_full_disk", kTable, kRows, "touch", kBatchSize) +
                  "; SELECT pg_create_physical_replication_slot('forgotten', true)",
              kDatabase);
  Serve serve(cfg, "full-disk");
  const auto port = serve.debug_port();
  if (!tally.expect(port.has_value() && test::poll_until([&] { return finished_jobs(server) >= 2; }, 30s),
                    what + ": the migration never got going")) {
    ++tally.hangs;
    return;
  }
  ++tally.faults_injected;
  const std::size_t offset = serve.err().size();
  if (!tally.expect(fs.fill(kLeaveFreeKb * 1024), what + ": could not fill the tmpfs")) return;
  const bool full = test::poll_until([&] { return contains_any(server.log(), kServerFull); }, kFillDeadline);
  tally.expect(full, what + ": the server never ran out of WAL space");
  const bool noticed = test::poll_until(
      [&] { return contains_any(serve.err().substr(offset), kBbmdNamed) && e2e::http_get(*port, "/readyz").status != 200; },
      kFillDeadline);
  tally.expect(noticed, what + ": bbmd named neither the full disk nor the crash, or /readyz stayed 200, while the WAL "
                               "volume was full");

  // Space returns: the filler goes; the server is started again if it gave up; the slot goes.
  fs.unfill();
  const bool panicked = server.log().find("PANIC:") != std::string::npos;
  const bool gave_up = !test::poll_until([&] { return answers(server); }, 10s) && !server.postmaster_running();
  if (gave_up) server.start_again();
  const bool back = test::poll_until([&] { return answers(server); }, 30s);
  tally.expect(back, what + ": the server did not come back once space returned");
  if (back) server.exec("SELECT pg_drop_replication_slot('forgotten')");
  const std::string status = "SELECT status FROM batched_background_migrations";
  const bool finished = back && test::poll_until([&] { return sql(server, status) == "2"; }, kFinishDeadline);
  if (!finished) ++tally.hangs;
  tally.expect(finished, what + ": migration not finished after space returned");
  const long lost = back ? std::stol(sql(server, std::string("SELECT count(*) FROM ") + kTable + " WHERE changes = 0")) : 0;
  const long twice = back ? std::stol(sql(server, std::string("SELECT count(*) FROM ") + kTable + " WHERE changes > 1")) : 0;
  tally.rows_lost += finished ? lost : 0;
  tally.rows_changed_twice += twice;
  tally.expect(lost == 0 && twice == 0, what + ": " + std::to_string(lost) + " rows never changed, " +
                                            std::to_string(twice) + " changed more than once");
  const bool alive = serve.alive(tally);
  serve.stop(tally);
  const bool survived = full && noticed && finished && lost == 0 && twice == 0 && alive;
  if (survived) ++tally.faults_survived;
  std::printf("   %s: server %s%s (%s), bbmd said: %s; rows lost %ld, changed twice %ld\n",
              survived ? "survived" : "NOT survived", panicked ? "PANICked" : "failed statements",
              gave_up ? " and gave up (started again)" : "", first_line_with(server.log(), {"PANIC:", "ERROR:"}).c_str(),
              first_line_with(serve.err().substr(offset), kBbmdNamed).c_str(), lost, twice);
}

}  // namespace

BBMD_RELIABILITY_SCENARIO(full_disk, 50)(const Options& opt, Tally& tally) {
  std::string why;
  auto fs = SmallFilesystem::mount(kFilesystemMb, why);
  if (!fs) {
    std::printf("   SKIPPED: full_disk needs a size-limited filesystem for pg_wal and this machine cannot make one: "
                "%s\n",
                why.c_str());
    return;
  }
  const int rounds = opt.quick ? 1 : std::max(2, static_cast<int>(2 * opt.scale + 0.5));
  for (int n = 1; n <= rounds; ++n) {
    run_fill(*fs, n, tally);
    std::filesystem::remove_all(wal_dir(*fs, n));  // the cluster's folder went; its pg_wal lives here
  }
}

}  // namespace bbmd::reliability

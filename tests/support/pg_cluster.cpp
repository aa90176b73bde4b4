// PgCluster: initdb, start, pg_basebackup and teardown of throwaway PostgreSQL 15 clusters.
#include "support/pg_cluster.hpp"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <boost/process/args.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/io.hpp>
#include <boost/process/start_dir.hpp>
#include <boost/process/system.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "support/net.hpp"
#include "support/poll.hpp"
#include "support/process.hpp"

namespace bp = boost::process;

namespace bbmd::test {
namespace {

// Debian's layout for the PostgreSQL 15 server binaries (postgresql-15 package).
const std::filesystem::path kBinDir = "/usr/lib/postgresql/15/bin";
constexpr const char* kOsUser = "postgres";
// pg_ctl -w waits this long for startup; a throwaway cluster starts in well under a second.
constexpr const char* kStartTimeoutS = "30";
// A free port can be taken by someone else between our probe and the server's bind: retry.
constexpr int kStartAttempts = 3;

// Runs `args` as the postgres OS user in `cwd`, output appended to `log`; throws on failure.
void run_as_postgres(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                     const std::filesystem::path& log) {
  std::vector<std::string> full{"-u", kOsUser, "--"};
  full.insert(full.end(), args.begin(), args.end());
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(log.c_str(), "a"), &std::fclose);
  if (!out) throw std::runtime_error("PgCluster: cannot open " + log.string());
  const int code = bp::system(bp::exe = "/usr/sbin/runuser", bp::args = full, bp::start_dir = cwd.string(),
                              bp::std_in < bp::null, (bp::std_out & bp::std_err) > out.get());
  if (code != 0) {
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    throw std::runtime_error("PgCluster: failed: " + cmd + "\n" + read_text(log));
  }
}

struct ConnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
struct ResDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;
using Res = std::unique_ptr<PGresult, ResDeleter>;

// `conn` outlives the result only for error messages; the caller keeps both.
Res run_sql(const std::string& conninfo, const std::string& sql, Conn& conn) {
  conn.reset(PQconnectdb(conninfo.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("PgCluster: " + std::string(PQerrorMessage(conn.get())));
  }
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
  Res res{PQexec(conn.get(), sql.c_str())};
  const auto st = PQresultStatus(res.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    throw std::runtime_error("PgCluster: " + std::string(PQerrorMessage(conn.get())) + " in SQL: " + sql);
  }
  return res;
}

}  // namespace

PgCluster::PgCluster(Options options) {
  make_dir();
  std::vector<std::string> initdb{(kBinDir / "initdb").string(), "-D", data_.string(), "-U", kOsUser,
                                  "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"};
  initdb.insert(initdb.end(), options.initdb_args.begin(), options.initdb_args.end());
  run_as_postgres(initdb, dir_, dir_ / "initdb.log");
  configure(options.settings);
  start();
}

PgCluster::PgCluster(Standby, const PgCluster& primary, const std::vector<std::string>& settings) {
  make_dir();
  // -R writes standby.signal and primary_conninfo; fast checkpoint so the copy starts at once.
  run_as_postgres({(kBinDir / "pg_basebackup").string(), "-D", data_.string(), "-h", "127.0.0.1", "-p",
                   std::to_string(primary.port_), "-U", kOsUser, "-R", "-X", "stream", "--checkpoint=fast",
                   "--no-sync"},
                  dir_, dir_ / "basebackup.log");
  configure(settings);
  start();
}

PgCluster::~PgCluster() {
  if (running_) {
    try {
      run_as_postgres({(kBinDir / "pg_ctl").string(), "-D", data_.string(), "-m", "immediate", "-w", "stop"}, dir_,
                      dir_ / "stop.log");
    } catch (...) {
      // Nothing to do in a destructor; the folder goes anyway.
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void PgCluster::make_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "bbmd-pg-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("PgCluster: mkdtemp failed");
  dir_ = pattern;
  data_ = dir_ / "data";
  const passwd* pw = getpwnam(kOsUser);
  if (!pw || chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("PgCluster: cannot hand " + dir_.string() + " to the postgres user");
  }
}

// Appended last, so they override what initdb or pg_basebackup (a copy of the primary's) wrote.
void PgCluster::configure(const std::vector<std::string>& settings) {
  std::ofstream conf(data_ / "postgresql.conf", std::ios::app);
  conf << "\n# bbmd test cluster\n"
       << "listen_addresses = '127.0.0.1'\n"
       << "unix_socket_directories = '" << dir_.string() << "'\n"
       << "fsync = off\n"
       << "full_page_writes = off\n"
       << "logging_collector = off\n";
  for (const auto& s : settings) conf << s << "\n";
}

void PgCluster::start() {
  for (int attempt = 1;; ++attempt) {
    port_ = free_loopback_port();
    std::ofstream(data_ / "postgresql.conf", std::ios::app) << "port = " << port_ << "\n";
    try {
      launch();
      return;
    } catch (const std::runtime_error& e) {
      if (attempt >= kStartAttempts) {
        throw std::runtime_error(std::string(e.what()) + "\nserver.log:\n" + read_text(dir_ / "server.log"));
      }
    }
  }
}

void PgCluster::launch() {
  run_as_postgres({(kBinDir / "pg_ctl").string(), "-D", data_.string(), "-l", (dir_ / "server.log").string(), "-w",
                   "-t", kStartTimeoutS, "start"},
                  dir_, dir_ / "pg_ctl.log");
  running_ = true;
}

void PgCluster::restart(const std::string& mode, const std::function<void()>& while_down) {
  run_as_postgres({(kBinDir / "pg_ctl").string(), "-D", data_.string(), "-m", mode, "-w", "stop"}, dir_,
                  dir_ / "stop.log");
  running_ = false;
  try {
    if (while_down) while_down();
  } catch (...) {
    launch();
    throw;
  }
  launch();
}

void PgCluster::kill9() {
  std::ifstream pidfile(data_ / "postmaster.pid");
  pid_t postmaster = 0;
  if (!(pidfile >> postmaster) || postmaster <= 0) throw std::runtime_error("PgCluster: no postmaster.pid in " + data_.string());
  ::kill(postmaster, SIGSTOP);  // first, so it starts nothing more and restarts nothing
  std::vector<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'.
    const auto paren = line.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(line.substr(paren + 1));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == postmaster) children.push_back(std::stoi(name));
  }
  for (const pid_t c : children) ::kill(c, SIGSTOP);
  ::kill(postmaster, SIGKILL);
  for (const pid_t c : children) ::kill(c, SIGKILL);
  running_ = false;
  // The postmaster is not our child (pg_ctl daemonised it), so nobody here reaps it: wait until
  // it is gone or a zombie.
  auto dead = [postmaster] {
    std::ifstream stat("/proc/" + std::to_string(postmaster) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    const auto paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
  };
  if (!poll_until(dead, std::chrono::seconds(10), std::chrono::milliseconds(5))) {
    throw std::runtime_error("PgCluster: the postmaster survived SIGKILL");
  }
}

void PgCluster::stop(const std::string& mode) {
  run_as_postgres({(kBinDir / "pg_ctl").string(), "-D", data_.string(), "-m", mode, "-w", "stop"}, dir_,
                  dir_ / "stop.log");
  running_ = false;
}

bool PgCluster::postmaster_running() const {
  try {
    run_as_postgres({(kBinDir / "pg_ctl").string(), "-D", data_.string(), "status"}, dir_, dir_ / "status.log");
    return true;
  } catch (const std::runtime_error&) {
    return false;  // exit 3: not running
  }
}

void PgCluster::start_again() { launch(); }

std::string PgCluster::log() const { return read_text(dir_ / "server.log"); }

void PgCluster::promote() {
  run_as_postgres({(kBinDir / "pg_ctl").string(), "-D", data_.string(), "-w", "-t", kStartTimeoutS, "promote"}, dir_,
                  dir_ / "promote.log");
}

void PgCluster::rejoin_as_standby(const PgCluster& primary) {
  run_as_postgres({(kBinDir / "pg_rewind").string(), "-D", data_.string(), "--source-server=" + primary.conninfo(),
                   "--write-recovery-conf", "--no-sync"},
                  dir_, dir_ / "rewind.log");
  // pg_rewind copied the primary's postgresql.conf, with its port and socket folder: ours again.
  configure({});
  std::ofstream(data_ / "postgresql.conf", std::ios::app) << "port = " << port_ << "\n";
  launch();
}

std::unique_ptr<PgCluster> PgCluster::create_standby(const std::vector<std::string>& settings) {
  return std::unique_ptr<PgCluster>(new PgCluster(Standby{}, *this, settings));
}

config::Database PgCluster::config(const std::string& dbname) const {
  config::Database db;
  db.host = "127.0.0.1";
  db.port = port_;
  db.user = kOsUser;
  db.password.clear();
  db.dbname = dbname;
  db.sslmode = "disable";
  return db;
}

std::string PgCluster::conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + kOsUser + " dbname=" + dbname +
         " sslmode=disable";
}

void PgCluster::exec(const std::string& sql, const std::string& dbname) const {
  Conn c;
  run_sql(conninfo(dbname), sql, c);
}

std::string PgCluster::scalar(const std::string& sql, const std::string& dbname) const {
  Conn c;
  Res r = run_sql(conninfo(dbname), sql, c);
  if (PQntuples(r.get()) == 0) throw std::runtime_error("PgCluster: no rows from: " + sql);
  return PQgetvalue(r.get(), 0, 0);
}

}  // namespace bbmd::test

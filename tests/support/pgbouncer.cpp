// PgBouncer: its folder and pgbouncer.ini, the child process, waiting until it accepts, teardown.
#include "support/pgbouncer.hpp"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/handles.hpp>
#include <boost/process/io.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "support/net.hpp"
#include "support/poll.hpp"
#include "support/process.hpp"

namespace bp = boost::process;

namespace bbmd::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBinary = "/usr/sbin/pgbouncer";  // Debian's pgbouncer package
constexpr const char* kOsUser = "postgres";             // who it runs as when started by root
constexpr int kStartAttempts = 3;  // a free port can be taken by someone else before PgBouncer binds it
constexpr auto kAcceptDeadline = 15s;
constexpr auto kStopDeadline = 10s;

// userlist.txt: "name" "password", a double quote inside doubled.
std::string userlist_word(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

bool run_as_root() { return geteuid() == 0; }

// As root the folder goes to the postgres user, which PgBouncer drops to before reading it again.
void hand_over(const std::filesystem::path& path) {
  if (!run_as_root()) return;
  const passwd* pw = getpwnam(kOsUser);
  if (!pw || chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("PgBouncer: cannot hand " + path.string() + " to the postgres user");
  }
}

struct ConnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;

Conn connect(const config::Database& through) {
  const std::string port = std::to_string(through.port);
  const char* keys[] = {"host", "port", "dbname", "user", "password", "sslmode", "connect_timeout", nullptr};
  const char* values[] = {through.host.c_str(), port.c_str(), through.dbname.c_str(), through.user.c_str(),
                          through.password.c_str(), "disable", "2", nullptr};
  return Conn(PQconnectdbParams(keys, values, 0));
}

// True once a client gets through PgBouncer to the server (which PgBouncer logs in to on demand).
bool accepts(const config::Database& through) { return PQstatus(connect(through).get()) == CONNECTION_OK; }

}  // namespace

struct PgBouncer::Child {
  bp::child process;
};

PgBouncer::PgBouncer(const config::Database& server, Options options) : server_(server) {
  std::string pattern = (std::filesystem::temp_directory_path() / "bbmd-pgbouncer-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("PgBouncer: mkdtemp failed");
  dir_ = pattern;
  try {
    hand_over(dir_);
    for (int attempt = 1;; ++attempt) {
      port_ = free_loopback_port();
      write_files(options);
      if (launch()) return;
      if (attempt >= kStartAttempts) throw std::runtime_error("PgBouncer did not start; its log:\n" + log());
    }
  } catch (...) {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw;
  }
}

PgBouncer::~PgBouncer() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

// Stock settings but for where it listens (loopback TCP on our port, its unix socket in our
// folder), whom it lets in (the server's role, with the server's password) and the pool mode.
// No `ignore_startup_parameters`: a client sending one PgBouncer does not track is refused.
void PgBouncer::write_files(const Options& options) {
  const auto userlist = dir_ / "userlist.txt";
  std::ofstream(userlist) << userlist_word(server_.user) << " " << userlist_word(server_.password) << "\n";
  std::ofstream ini(dir_ / "pgbouncer.ini");
  ini << "[databases]\n"
      << "* = host=" << server_.host << " port=" << server_.port << "\n"
      << "[pgbouncer]\n"
      << "listen_addr = 127.0.0.1\n"
      << "listen_port = " << port_ << "\n"
      << "unix_socket_dir = " << dir_.string() << "\n"
      << "auth_type = " << (server_.password.empty() ? "trust" : "md5") << "\n"
      << "auth_file = " << userlist.string() << "\n"
      << "pool_mode = " << options.pool_mode << "\n"
      << "admin_users = " << server_.user << "\n";
  for (const auto& line : options.settings) ini << line << "\n";
  ini.close();
  hand_over(userlist);
  hand_over(dir_ / "pgbouncer.ini");
}

bool PgBouncer::launch() {
  std::vector<std::string> args;
  if (run_as_root()) args.insert(args.end(), {"-u", kOsUser});
  args.push_back((dir_ / "pgbouncer.ini").string());
  const auto log_path = dir_ / "pgbouncer.log";
  child_ = std::make_unique<Child>(Child{bp::child(bp::exe = kBinary, bp::args = args, bp::std_in < bp::null,
                                                   (bp::std_out & bp::std_err) > log_path, bp::limit_handles)});
  bool gone = false;
  const bool up = poll_until(
      [&] { return (gone = !child_->process.running()) || accepts(config(server_.dbname)); }, kAcceptDeadline, 50ms);
  if (gone) {
    child_.reset();
    return false;
  }
  if (!up) throw std::runtime_error("PgBouncer did not accept connections within 15s; its log:\n" + log());
  return true;
}

void PgBouncer::stop() noexcept {
  if (!child_) return;
  std::error_code ec;
  kill(child_->process.id(), SIGTERM);
  if (!poll_until([&] { return !child_->process.running(ec); }, kStopDeadline, 10ms)) child_->process.terminate(ec);
  child_->process.wait(ec);
  child_.reset();
}

config::Database PgBouncer::config(const std::string& dbname) const {
  config::Database db = server_;
  db.host = "127.0.0.1";
  db.port = port_;
  db.dbname = dbname;
  db.sslmode = "disable";
  return db;
}

std::string PgBouncer::log() const { return read_text(dir_ / "pgbouncer.log"); }

std::vector<std::vector<std::string>> PgBouncer::admin(const std::string& command) const {
  const Conn c = connect(config("pgbouncer"));
  if (PQstatus(c.get()) != CONNECTION_OK) {
    throw std::runtime_error("PgBouncer admin console: " + std::string(PQerrorMessage(c.get())));
  }
  // The console speaks the simple query protocol only.
  const std::unique_ptr<PGresult, ResultDeleter> r(PQexec(c.get(), command.c_str()));
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("PgBouncer admin " + command + ": " + PQerrorMessage(c.get()));
  }
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    auto& row = rows.emplace_back();
    for (int j = 0; j < PQnfields(r.get()); ++j) row.emplace_back(PQgetvalue(r.get(), i, j));
  }
  return rows;
}

void PgBouncer::restart() {
  stop();
  if (!launch()) throw std::runtime_error("PgBouncer did not start again on port " + std::to_string(port_) + "; its log:\n" + log());
}

}  // namespace bbmd::test

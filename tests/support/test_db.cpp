// TestDatabase: create/drop a per-test database and query it with blocking libpq.
#include "support/test_db.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdlib>
#include <stdexcept>
#include <utility>

namespace bbmd::test {

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Quotes a conninfo value: 'it''s' style, backslashes escaped, as libpq documents.
std::string conninfo_value(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string conninfo_for(const config::Database& db) {
  std::string s = "host=" + conninfo_value(db.host) + " port=" + std::to_string(db.port) +
                  " user=" + conninfo_value(db.user) + " dbname=" + conninfo_value(db.dbname) +
                  " sslmode=" + conninfo_value(db.sslmode);
  if (!db.password.empty()) s += " password=" + conninfo_value(db.password);
  return s;
}

config::Database env_config(const std::string& dbname) {
  config::Database db;
  db.host = env_or("PGHOST", "localhost");
  db.port = std::stoi(env_or("PGPORT", "5432"));
  db.user = env_or("PGUSER", "postgres");
  db.password = env_or("PGPASSWORD", "");
  db.sslmode = env_or("PGSSLMODE", "prefer");
  db.dbname = dbname;
  return db;
}

struct Conn {
  PGconn* c;
  ~Conn() { PQfinish(c); }
};

struct Res {
  PGresult* r;
  ~Res() { PQclear(r); }
};

PGconn* open(const config::Database& db) {
  PGconn* c = PQconnectdb(conninfo_for(db).c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("TestDatabase: cannot connect to " + db.host + ":" + std::to_string(db.port) + "/" +
                             db.dbname + " (is it run under pg_virtualenv?): " + msg);
  }
  // Server NOTICEs ("does not exist, skipping") would only clutter the test output.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  return c;
}

// Runs sql on c; throws with the server message unless it succeeded.
Res run(PGconn* c, const std::string& sql) {
  Res res{PQexec(c, sql.c_str())};
  auto st = PQresultStatus(res.r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    throw std::runtime_error("TestDatabase: " + std::string(PQerrorMessage(c)) + "  in SQL: " + sql);
  }
  return Res{std::exchange(res.r, nullptr)};
}

std::string quote_ident(const std::string& name) { return "\"" + name + "\""; }  // our own names only

}  // namespace

void TestDatabase::ConnDeleter::operator()(pg_conn* c) const noexcept { PQfinish(c); }

TestDatabase::TestDatabase() {
  static std::atomic<int> counter{0};
  name_ = "bbmd_t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  Conn admin{open(env_config("postgres"))};
  // A leftover from a crashed earlier run with the same pid would make CREATE fail.
  run(admin.c, "DROP DATABASE IF EXISTS " + quote_ident(name_) + " WITH (FORCE)");
  run(admin.c, "CREATE DATABASE " + quote_ident(name_));
}

TestDatabase::~TestDatabase() {
  session_.reset();
  try {
    Conn admin{open(env_config("postgres"))};
    run(admin.c, "DROP DATABASE IF EXISTS " + quote_ident(name_) + " WITH (FORCE)");
  } catch (...) {
    // A destructor must not throw; the server is throwaway anyway.
  }
}

config::Database TestDatabase::config() const { return env_config(name_); }

std::string TestDatabase::conninfo() const { return conninfo_for(config()); }

pg_conn* TestDatabase::session() {
  if (!session_ || PQstatus(session_.get()) != CONNECTION_OK) session_.reset(open(config()));
  return session_.get();
}

void TestDatabase::exec(const std::string& sql) { run(session(), sql); }

std::string TestDatabase::scalar(const std::string& sql) {
  Res res = run(session(), sql);
  if (PQntuples(res.r) < 1 || PQnfields(res.r) < 1) throw std::runtime_error("TestDatabase: no rows from: " + sql);
  return PQgetvalue(res.r, 0, 0);  // "" for NULL
}

std::vector<std::vector<std::string>> TestDatabase::rows(const std::string& sql) {
  Res res = run(session(), sql);
  std::vector<std::vector<std::string>> out;
  for (int r = 0; r < PQntuples(res.r); ++r) {
    auto& row = out.emplace_back();
    for (int c = 0; c < PQnfields(res.r); ++c) {
      row.push_back(PQgetisnull(res.r, r, c) ? "NULL" : PQgetvalue(res.r, r, c));
    }
  }
  return out;
}

long long TestDatabase::count(const std::string& sql) {
  auto text = scalar(sql);
  try {
    return std::stoll(text);
  } catch (const std::exception&) {
    throw std::runtime_error("TestDatabase: not an integer (\"" + text + "\") from: " + sql);
  }
}

config::Database refusing_database() {
  config::Database cfg;
  cfg.host = "127.0.0.1";
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  cfg.port = probe.local_endpoint().port();
  return cfg;  // the acceptor closes here: nothing listens on that port any more
}

}  // namespace bbmd::test

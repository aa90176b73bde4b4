// libpq keyword/value options for one bbmd connection, and their password-free description.
#include "db/conninfo.hpp"

#include <algorithm>

namespace bbmd::db {

namespace {

// TCP keepalives let the client notice a dead server (or a silently dropped NAT entry)
// within idle + interval * count = 25 s, instead of the kernel default of hours.
constexpr const char* kKeepalivesIdleSeconds = "10";
constexpr const char* kKeepalivesIntervalSeconds = "5";
constexpr const char* kKeepalivesCount = "3";
// The server checks every second whether the client is still there while it runs a long
// statement, so a batch from a crashed bbmd does not keep running (and holding locks).
constexpr const char* kServerOptions = "-c client_connection_check_interval=1000";

void add_if_set(ConnParams& p, const char* key, const std::string& value) {
  if (!value.empty()) p.keywords.emplace_back(key, value);
}

}  // namespace

ConnParams conn_params(const config::Database& db, std::string application_name) {
  ConnParams p;
  p.connect_timeout = db.connecttimeout;
  add_if_set(p, "host", db.host);
  p.keywords.emplace_back("port", std::to_string(db.port));
  add_if_set(p, "user", db.user);
  // Without the keyword libpq falls back to PGPASSWORD and ~/.pgpass.
  add_if_set(p, "password", db.password);
  add_if_set(p, "dbname", db.dbname);
  add_if_set(p, "sslmode", db.sslmode);
  add_if_set(p, "sslcert", db.sslcert);
  add_if_set(p, "sslkey", db.sslkey);
  add_if_set(p, "sslrootcert", db.sslrootcert);
  // libpq only honours connect_timeout in blocking connects; bbmd enforces its own timer,
  // but passing it keeps tools that reuse these options (psql) bounded as well. Rounded up.
  auto seconds = std::max<long long>(1, (db.connecttimeout.count() + 999) / 1000);
  p.keywords.emplace_back("connect_timeout", std::to_string(seconds));
  add_if_set(p, "application_name", application_name);
  p.keywords.emplace_back("keepalives", "1");
  p.keywords.emplace_back("keepalives_idle", kKeepalivesIdleSeconds);
  p.keywords.emplace_back("keepalives_interval", kKeepalivesIntervalSeconds);
  p.keywords.emplace_back("keepalives_count", kKeepalivesCount);
  p.keywords.emplace_back("options", kServerOptions);
  return p;
}

std::string describe(const config::Database& db) {
  return "host=" + db.host + " port=" + std::to_string(db.port) + " dbname=" + db.dbname + " user=" + db.user +
         " sslmode=" + db.sslmode;
}

}  // namespace bbmd::db

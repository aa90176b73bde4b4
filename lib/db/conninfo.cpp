// libpq keyword/value options for one bbmd connection, and their password-free description.
#include "db/conninfo.hpp"

#include <algorithm>

namespace bbmd::db {

namespace {

// The server checks every second whether the client is still there while it runs a long
// statement, so a batch from a crashed bbmd does not keep running (and holding locks).
constexpr const char* kClientCheckMs = "1000";

void add_if_set(ConnParams& p, const char* key, const std::string& value) {
  if (!value.empty()) p.keywords.emplace_back(key, value);
}

// libpq takes keepalive times in whole seconds; rounded up so a bound is never shortened.
std::string whole_seconds(config::Duration d) {
  return std::to_string(std::max<long long>(1, (d.count() + 999) / 1000));
}

// The server gets the same liveness bounds for its end: after a network blackhole its session
// would otherwise sit idle in transaction for the kernel's two hours, holding the job's row
// lock, so no other worker could take the job over (leases skip locked rows). They are set per
// transaction, not as the startup parameter `options`: PgBouncer refuses that parameter, and in
// transaction pooling a session setting would land on whichever server session ran the SET.
std::vector<std::pair<std::string, std::string>> server_settings(const config::Database& db) {
  return {{"client_connection_check_interval", kClientCheckMs},
          {"tcp_keepalives_idle", whole_seconds(db.keepalives.idle)},
          {"tcp_keepalives_interval", whole_seconds(db.keepalives.interval)},
          {"tcp_keepalives_count", std::to_string(db.keepalives.count)},
          {"tcp_user_timeout", std::to_string(db.tcpusertimeout.count())}};
}

// database.host as libpq takes it: libpq keeps blanks around the commas of a list as part of the
// names, so "a, b" goes as "a,b".
std::string hosts(const config::Database& db) {
  std::string text;
  for (const auto& h : config::host_list(db)) text += (text.empty() ? "" : ",") + h;
  return text;
}

}  // namespace

ConnParams conn_params(const config::Database& db, std::string application_name) {
  ConnParams p;
  p.connect_timeout = db.connecttimeout;
  add_if_set(p, "host", hosts(db));
  p.keywords.emplace_back("port", config::port_text(db));
  // Several hosts are a primary and its standbys: only a read-write session will do, whichever
  // host offers it now (after a failover, the promoted standby).
  if (config::host_list(db).size() > 1) p.keywords.emplace_back("target_session_attrs", "read-write");
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
  p.keywords.emplace_back("connect_timeout", whole_seconds(db.connecttimeout));
  add_if_set(p, "application_name", application_name);
  // Keepalives notice a dead server on an idle connection (or one awaiting a result); the user
  // timeout notices data the server never acknowledged. Together they bound every wait on the
  // network, so a blackholed connection fails instead of hanging for the kernel's hours.
  p.keywords.emplace_back("keepalives", "1");
  p.keywords.emplace_back("keepalives_idle", whole_seconds(db.keepalives.idle));
  p.keywords.emplace_back("keepalives_interval", whole_seconds(db.keepalives.interval));
  p.keywords.emplace_back("keepalives_count", std::to_string(db.keepalives.count));
  p.keywords.emplace_back("tcp_user_timeout", std::to_string(db.tcpusertimeout.count()));
  p.transaction_settings = server_settings(db);
  p.named_statements = db.preparedstatements;
  return p;
}

std::string describe(const config::Database& db) {
  return "host=" + hosts(db) + " port=" + config::port_text(db) + " dbname=" + db.dbname + " user=" + db.user +
         " sslmode=" + db.sslmode;
}

}  // namespace bbmd::db

// Bbm fixtures for integration and end-to-end tests.
#include "support/bbm_fixture.hpp"

#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "schema/own_schema.hpp"

namespace bbmd::test {

namespace {

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

}  // namespace

std::string t_table_sql(int n) {
  return "CREATE TABLE t (id bigint PRIMARY KEY, a int NOT NULL, b bigint, changes int NOT NULL DEFAULT 0);\n"
         "INSERT INTO t (id, a) SELECT g, g * 10 FROM generate_series(1, " + std::to_string(n) + ") g;\n";
}

void make_table(TestDatabase& db, int n) { db.exec(t_table_sql(n)); }

std::int64_t queue_fill_n(TestDatabase& db, const std::string& name) {
  db.exec("CREATE TABLE n (id bigint PRIMARY KEY, v bigint)");
  db.exec("INSERT INTO n SELECT g, CASE WHEN g % 3 = 0 THEN -1 END FROM generate_series(1, 200) g");
  db.exec("CREATE SEQUENCE n_seq");
  MigrationRow row;
  row.name = name;
  row.table_name = "public.n";
  row.column_name = "v";
  row.job_signature_name = "fill_from_sequence";
  row.job_arguments = R"({"sequence": "public.n_seq"})";
  row.batching_strategy = "null_keyset";
  row.max_value = 200;
  row.batch_size = 30;
  return queue_migration(db, row);
}

void apply_bbmd_schema(TestDatabase& db) {
  for (const auto& m : schema::own_migrations()) db.exec(m.up_sql);
}

std::int64_t queue_migration(TestDatabase& db, const MigrationRow& r) {
  // Values go through format(%L) on the server, so test rows may hold quotes and semicolons.
  std::ostringstream sql;
  sql << "SELECT format('INSERT INTO batched_background_migrations (name, table_name, column_name, "
         "job_signature_name, job_arguments, batching_strategy, min_value, max_value, batch_size, sub_batch_size, "
         "status) VALUES (%L, %L, %L, %L, %L::jsonb, %L, %s, %s, %s, %s, %s) RETURNING id', "
      << "$q$" << r.name << "$q$, $q$" << r.table_name << "$q$, $q$" << r.column_name << "$q$, $q$"
      << r.job_signature_name << "$q$, $q$" << r.job_arguments << "$q$, "
      << (r.batching_strategy ? "$q$" + *r.batching_strategy + "$q$" : "NULL") << ", " << r.min_value << ", "
      << r.max_value << ", " << r.batch_size << ", " << r.sub_batch_size << ", " << r.status << ")";
  return std::stoll(db.scalar(db.scalar(sql.str())));
}

std::string render_yaml(const ConfigOverrides& values) {
  std::ostringstream out;
  std::vector<std::string> open;  // the mapping path currently written
  for (const auto& [key, value] : values) {
    std::vector<std::string> parts;
    std::stringstream ss(key);
    for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
    std::size_t common = 0;
    while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common]) ++common;
    open.resize(common);
    for (std::size_t i = common; i + 1 < parts.size(); ++i) {
      out << std::string(2 * i, ' ') << parts[i] << ":\n";
      open.push_back(parts[i]);
    }
    out << std::string(2 * (parts.size() - 1), ' ') << parts.back() << ": " << value << "\n";
  }
  return out.str();
}

ConfigFile::ConfigFile(const TestDatabase& db, const ConfigOverrides& overrides)
    : ConfigFile(db.config(), overrides) {}

ConfigFile::ConfigFile(const config::Database& d, const ConfigOverrides& overrides) {
  ConfigOverrides values = {
      {"database.host", quoted(d.host)},
      {"database.port", config::port_text(d)},
      {"database.user", quoted(d.user)},
      {"database.password", quoted(d.password)},
      {"database.dbname", quoted(d.dbname)},
      {"database.sslmode", quoted(d.sslmode)},
      {"database.backgroundmigrations.startupjitter", "0s"},
      {"database.backgroundmigrations.backoff.initial", "20ms"},
      {"database.backgroundmigrations.backoff.max", "200ms"},
      {"database.backgroundmigrations.holdinterval", "1s"},
      {"database.backgroundmigrations.leaseduration", "5s"},
      {"database.backgroundmigrations.shutdowntimeout", "5s"},
      {"database.backgroundmigrations.sqlfunctions", quoted((dir_.path() / "functions").string())},
      {"http.debug.addr", quoted("127.0.0.1:0")},
      {"log.level", "info"},
      {"log.formatter", "json"},
  };
  for (const auto& [k, v] : overrides) values[k] = v;
  path_ = dir_.write("config.yml", render_yaml(values));
}

std::optional<int> debug_port(const std::string& log) {
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find("debug listener started") == std::string::npos) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("port")) return j["port"].get<int>();
  }
  return std::nullopt;
}

}  // namespace bbmd::test

// Shared pieces of the reliability scenarios (see workload.hpp).
#include "reliability/workload.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "e2e/e2e_helpers.hpp"
#include "support/poll.hpp"

namespace bbmd::reliability {

namespace {

// What AddressSanitizer, LeakSanitizer and UBSan print when they find something.
constexpr std::array kSanitizerMarkers = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                          "SUMMARY: UndefinedBehaviorSanitizer", ": runtime error: "};

// The end of a process's stderr, enough to see why it died without flooding the summary.
std::string tail(const std::string& text, std::size_t max = 3000) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

std::set<std::string> socket_inodes(pid_t pid) {
  std::set<std::string> inodes;
  std::error_code ec;
  const auto fds = std::filesystem::path("/proc") / std::to_string(pid) / "fd";
  for (const auto& entry : std::filesystem::directory_iterator(fds, ec)) {
    const auto target = std::filesystem::read_symlink(entry.path(), ec).string();
    // "socket:[12345]"
    if (!ec && target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
  }
  return inodes;
}

// Adds the local ports of the entries of /proc/<pid>/net/tcp{,6} whose inode is one of ours.
// Line format: "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...",
// local_address as hex "ADDR:PORT".
void add_ports(const std::filesystem::path& table, const std::set<std::string>& inodes, std::set<int>& ports) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
    const auto colon = local.rfind(':');
    if (colon != std::string::npos && inodes.count(inode)) ports.insert(std::stoi(local.substr(colon + 1), nullptr, 16));
  }
}

}  // namespace

namespace {
std::string counted_table_sql(const std::string& table, long rows) {
  return "CREATE TABLE " + table + " (id bigint PRIMARY KEY, a int NOT NULL, b bigint, changes int NOT NULL DEFAULT 0);"
         "INSERT INTO " + table + " (id, a) SELECT g, g * 10 FROM generate_series(1, " + std::to_string(rows) + ") g;";
}
}  // namespace

void make_counted_table(test::TestDatabase& db, const std::string& table, long rows) {
  db.exec(counted_table_sql(table, rows));
}

std::string counted_migration_sql(const std::string& name, const std::string& table, long rows,
                                  const std::string& function, int batch_size) {
  return counted_table_sql(table, rows) +
         "INSERT INTO batched_background_migrations (name, table_name, column_name, job_signature_name, "
         "job_arguments, min_value, max_value, batch_size, status) VALUES ('" + name + "', 'public." + table +
         "', 'id', '" + function + "', '{}', 1, " + std::to_string(rows) + ", " + std::to_string(batch_size) + ", 1)";
}

void write_touch_function(const test::ConfigFile& cfg, const std::string& name, const std::string& sleep_sql) {
  cfg.dir().write("functions/" + name + ".sql", e2e::sleepy_touch_sql(sleep_sql));
}

std::int64_t queue_range_migration(test::TestDatabase& db, const std::string& name, const std::string& table,
                                   const std::string& function, std::int64_t min, std::int64_t max,
                                   std::int64_t batch_size) {
  test::MigrationRow row;
  row.name = name;
  row.table_name = "public." + table;
  row.job_signature_name = function;
  row.job_arguments = "{}";
  row.min_value = min;
  row.max_value = max;
  row.batch_size = batch_size;
  return test::queue_migration(db, row);
}

RowDamage count_row_damage(test::TestDatabase& db, const std::string& table, Tally& tally) {
  const auto r = db.rows("SELECT count(*) FILTER (WHERE changes = 0), count(*) FILTER (WHERE changes > 1) FROM " +
                         table);
  RowDamage damage{std::stol(r[0][0]), std::stol(r[0][1])};
  tally.rows_lost += damage.lost;
  tally.rows_changed_twice += damage.twice;
  tally.expect(damage.lost == 0 && damage.twice == 0,
               "table " + table + ": " + std::to_string(damage.lost) + " rows never changed, " +
                   std::to_string(damage.twice) + " changed more than once");
  return damage;
}

bool wait_for_finished_migrations(test::TestDatabase& db, long expected, std::chrono::milliseconds deadline,
                                  Tally& tally, const std::string& scenario,
                                  const std::function<void()>& each_poll) {
  const bool done = test::poll_until(
      [&] {
        if (each_poll) each_poll();
        return db.count("SELECT count(*) FROM batched_background_migrations WHERE status = 2") == expected;
      },
      deadline, std::chrono::milliseconds(20));
  if (done) return true;
  ++tally.hangs;
  std::string seen;
  for (const auto& r : db.rows("SELECT status, count(*) FROM batched_background_migrations GROUP BY 1 ORDER BY 1")) {
    seen += " status " + r[0] + ": " + r[1] + ";";
  }
  tally.fail(scenario + ": " + std::to_string(expected) + " migrations not finished within " +
             std::to_string(deadline.count()) + " ms (" + seen + " )");
  return false;
}

long unfinished_jobs(test::TestDatabase& db, Tally& tally, const std::string& scenario) {
  const long n = db.count("SELECT count(*) FROM background_migration_jobs WHERE status <> 2");
  tally.expect(n == 0, scenario + ": " + std::to_string(n) + " jobs did not end finished");
  return n;
}

long bbmd_connections(test::TestDatabase& db) {
  return db.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                  "AND application_name = 'bbmd'");
}

bool has_sanitizer_report(const std::string& stderr_text) {
  for (const char* marker : kSanitizerMarkers) {
    if (stderr_text.find(marker) != std::string::npos) return true;
  }
  return false;
}

std::set<int> tcp_ports_of(pid_t pid) {
  const auto inodes = socket_inodes(pid);
  std::set<int> ports;
  const auto net = std::filesystem::path("/proc") / std::to_string(pid) / "net";
  add_ports(net / "tcp", inodes, ports);
  add_ports(net / "tcp6", inodes, ports);
  return ports;
}

Serve::Serve(const test::ConfigFile& cfg, std::string label)
    : process_(e2e::start_serve(cfg)), label_(std::move(label)) {}

std::optional<int> Serve::debug_port() const { return test::debug_port(err()); }

bool Serve::alive(Tally& tally) {
  if (judged_) return false;
  if (process_->running()) return true;
  const auto code = process_->wait_for_exit(std::chrono::milliseconds(0));
  crashed(tally, code == -1 ? "died of a signal nobody sent" : "exited on its own with code " + std::to_string(*code));
  return false;
}

void Serve::kill9(Tally& tally, const std::function<void()>& right_after) {
  if (!alive(tally)) return;
  process_->signal(SIGKILL);
  if (right_after) right_after();
  process_->wait_for_exit(std::chrono::seconds(10));
  judged_ = true;
  if (has_sanitizer_report(err())) crashed(tally, "printed a sanitizer report before it was killed");
}

void Serve::stop(Tally& tally, std::chrono::milliseconds deadline) {
  if (!alive(tally)) return;
  process_->signal(SIGTERM);
  const auto code = process_->wait_for_exit(deadline);
  if (!code) {
    judged_ = true;
    ++tally.hangs;
    tally.fail(label_ + ": still running " + std::to_string(deadline.count()) + " ms after SIGTERM; stderr:\n" +
               tail(err()));
    return;
  }
  if (*code != 0) {
    crashed(tally, *code == -1 ? "died of a signal after SIGTERM" : "exited with code " + std::to_string(*code) +
                                                                         " after SIGTERM");
    return;
  }
  judged_ = true;
  if (has_sanitizer_report(err())) crashed(tally, "printed a sanitizer report");
}

void Serve::crashed(Tally& tally, const std::string& how) {
  judged_ = true;
  ++tally.crashes;
  tally.fail(label_ + " (pid " + std::to_string(pid()) + ") " + how + "; stderr:\n" + tail(err()));
}

}  // namespace bbmd::reliability

// Lint checks over migration directories (see lint.hpp).
#include "schema/lint.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

#include "bbm/store/sql.hpp"
#include "schema/migration_file.hpp"
#include "schema/sql_split.hpp"

namespace bbmd::schema {

namespace {

const std::string kQueueTable = "insert into " + std::string(bbm::sql::kMigrationsTable);

// Lower-cased with runs of whitespace collapsed to one space, so "INSERT  INTO\n..." matches.
std::string normalised(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

std::vector<std::string> literals(const std::string& statement) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < statement.size(); ++i) {
    if (statement[i] != '\'') continue;
    std::string lit;
    for (++i; i < statement.size(); ++i) {
      if (statement[i] == '\'' && i + 1 < statement.size() && statement[i + 1] == '\'') {
        lit += '\'';
        ++i;
      } else if (statement[i] == '\'') {
        break;
      } else {
        lit += statement[i];
      }
    }
    out.push_back(std::move(lit));
  }
  return out;
}

std::set<std::string> read_released(const std::vector<std::filesystem::path>& dirs) {
  std::set<std::string> out;
  for (const auto& dir : dirs) {
    std::ifstream in(dir / kReleasedManifest);
    for (std::string line; std::getline(in, line);) {
      line = line.substr(0, line.find('#'));
      line.erase(std::remove_if(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c); }), line.end());
      if (!line.empty()) out.insert(line);
    }
  }
  return out;
}

void check_timestamps(const std::vector<MigrationFile>& all, std::chrono::system_clock::time_point now,
                      std::vector<Problem>& problems) {
  // A day of slack: a migration written just now in a timezone ahead of UTC is not "future".
  const auto latest = utc_timestamp(now + std::chrono::hours(24));
  std::map<std::string, std::string> first_with;  // timestamp -> version
  for (const auto& m : all) {
    const auto ts = timestamp_of(m.version);
    if (auto [it, fresh] = first_with.emplace(ts, m.version); !fresh) {
      problems.push_back({"duplicate_timestamp", m.source,
                          "timestamp " + ts + " is also used by " + it->second + "; every migration needs its own"});
    }
    if (!valid_timestamp(ts)) {
      problems.push_back({"out_of_order_timestamp", m.source, "timestamp " + ts + " is not a real UTC date and time"});
    } else if (ts > latest) {
      problems.push_back({"out_of_order_timestamp", m.source,
                          "timestamp " + ts + " is in the future: migrations written later would sort before it"});
    }
  }
}

void check_required_bbms(const std::vector<MigrationFile>& all, std::vector<Problem>& problems) {
  std::map<std::string, std::string> queued_by;  // BBM literal -> first version queueing it
  for (const auto& m : all) {
    try {
      for (const auto& name : statically_queued_bbms(m.up_sql)) queued_by.emplace(name, m.version);
    } catch (const std::invalid_argument& e) {
      problems.push_back({"invalid_sql", m.source, e.what()});
    }
  }
  for (const auto& m : all) {
    for (const auto& bbm : m.directives.requires_bbms) {
      const auto it = queued_by.find(bbm);
      if (it == queued_by.end()) {
        problems.push_back({"unqueued_required_bbm", m.source,
                            "requires BBM '" + bbm + "', which no migration queues (INSERT INTO " +
                                std::string(bbm::sql::kMigrationsTable) + ")"});
      } else if (it->second >= m.version) {
        problems.push_back({"unqueued_required_bbm", m.source,
                            "requires BBM '" + bbm + "', which is queued only by " + it->second +
                                ", a migration that runs after it"});
      }
    }
  }
}

void check_required_stop(const std::vector<MigrationFile>& all, const std::set<std::string>& released,
                         std::vector<Problem>& problems) {
  const MigrationFile* stop = nullptr;
  for (const auto& m : all) {
    if (m.directives.required_stop && (!stop || m.version > stop->version)) stop = &m;
  }
  // An unreleased stop ships together with everything dated before it: nothing to check yet.
  if (!stop || !released.count(stop->version)) return;
  for (const auto& m : all) {
    if (m.version < stop->version && !released.count(m.version)) {
      problems.push_back({"before_required_stop", m.source,
                          "dated before required stop " + stop->version +
                              ", which has been released without it: installations past the stop would apply "
                              "it out of order. Give it a timestamp after the stop (bbmd database migrate new)"});
    }
  }
}

}  // namespace

std::vector<std::string> statically_queued_bbms(const std::string& up_sql) {
  std::vector<std::string> out;
  for (const auto& statement : split_statements(up_sql)) {
    if (normalised(statement).find(kQueueTable) == std::string::npos) continue;
    for (auto& lit : literals(statement)) out.push_back(std::move(lit));
  }
  return out;
}

std::vector<Problem> lint(const std::vector<std::filesystem::path>& dirs, std::chrono::system_clock::time_point now) {
  std::vector<Problem> problems;
  std::vector<MigrationFile> all;
  for (const auto& dir : dirs) {
    if (!std::filesystem::is_directory(dir)) {
      problems.push_back({"missing_directory", dir.string(), "not a directory"});
      continue;
    }
    auto scan = scan_directory(dir);
    problems.insert(problems.end(), scan.problems.begin(), scan.problems.end());
    for (auto& m : scan.migrations) all.push_back(std::move(m));
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  check_timestamps(all, now, problems);
  check_required_bbms(all, problems);
  check_required_stop(all, read_released(dirs), problems);
  return problems;
}

}  // namespace bbmd::schema

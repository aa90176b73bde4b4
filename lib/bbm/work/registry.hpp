#pragma once
// Work functions by job_signature_name: the compiled built-ins, the SQL functions bbmd ships, and
// SQL files from the operator's folder (which override shipped ones of the same name). A file
// that cannot be used is remembered as a problem of its name, never a reason to stop: migrations
// that use it are held with the problem as their reason.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bbm/work/work_function.hpp"
#include "log/log.hpp"

namespace bbmd::bbm {

class WorkRegistry {
 public:
  // What loading found that an operator should hear of at start.
  struct Notice {
    bool problem = false;  // true: the file cannot be used; false: it overrides a shipped function
    std::string name;
    std::string file;
    std::string text;      // the problem, "<file>: <why>"
  };

  // The built-ins (copy_column, fill_from_sequence) and the shipped SQL functions.
  WorkRegistry();
  // Those, then every `<name>.sql` in `dir` (a missing folder is not an error).
  static WorkRegistry with_sql_folder(const std::filesystem::path& dir);

  void add(std::unique_ptr<WorkFunction> fn);
  [[nodiscard]] const WorkFunction* find(const std::string& name) const;
  // Why the file for `name` cannot be used, if it cannot.
  [[nodiscard]] std::optional<std::string> problem(const std::string& name) const;
  // The names of the usable functions.
  [[nodiscard]] std::vector<std::string> names() const;
  [[nodiscard]] const std::vector<Notice>& notices() const noexcept { return notices_; }
  // Logs the notices: a problem as an error, an override as info.
  void log_notices(const log::Logger& logger) const;

 private:
  void add_file(const std::string& name, const std::string& origin, const std::string& sql);

  std::map<std::string, std::shared_ptr<const WorkFunction>, std::less<>> functions_;
  std::map<std::string, std::string, std::less<>> problems_;
  std::vector<Notice> notices_;
};

std::unique_ptr<WorkFunction> make_copy_column();
std::unique_ptr<WorkFunction> make_fill_from_sequence();
// `sql` is one statement, which may use {{table}}, {{column}} and {{key}} (quoted by bbmd), and
// bound parameters: $1 = min key, $2 = max key, $3 = job_arguments as jsonb text; or, batching by
// limit, only $1 = the job's batch size. Throws std::invalid_argument saying
// why when `sql` is not exactly one statement PostgreSQL's parser accepts.
std::unique_ptr<WorkFunction> make_sql_function(std::string name, std::string sql);

}  // namespace bbmd::bbm

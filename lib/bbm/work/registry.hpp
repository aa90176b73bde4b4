#pragma once
// Work functions by job_signature_name: the compiled built-ins plus SQL files from a folder.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bbm/work/work_function.hpp"

namespace bbmd::bbm {

class WorkRegistry {
 public:
  // The built-ins only (copy_column, fill_from_sequence).
  WorkRegistry();
  // Built-ins plus every `<name>.sql` in `dir` (a missing folder is not an error: no SQL functions).
  // Throws std::runtime_error naming the file for an unreadable file or a bad name.
  static WorkRegistry with_sql_folder(const std::filesystem::path& dir);

  void add(std::unique_ptr<WorkFunction> fn);
  [[nodiscard]] const WorkFunction* find(const std::string& name) const;
  [[nodiscard]] std::vector<std::string> names() const;

 private:
  std::map<std::string, std::shared_ptr<const WorkFunction>, std::less<>> functions_;
};

std::unique_ptr<WorkFunction> make_copy_column();
std::unique_ptr<WorkFunction> make_fill_from_sequence();
// `sql` may use {{table}}, {{column}} and {{key}} (quoted by bbmd) and $1 = min, $2 = max,
// $3 = job_arguments as jsonb text.
std::unique_ptr<WorkFunction> make_sql_function(std::string name, std::string sql);

}  // namespace bbmd::bbm

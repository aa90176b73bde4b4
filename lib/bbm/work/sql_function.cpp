// SQL work functions loaded from `<name>.sql` files: placeholders for quoted identifiers,
// bound parameters for values.
#include <boost/asio/awaitable.hpp>

#include "bbm/work/registry.hpp"
#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

void replace_all(std::string& text, std::string_view from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

class SqlFunction final : public WorkFunction {
 public:
  SqlFunction(std::string name, std::string sql)
      : name_(std::move(name)), sql_(std::move(sql)), uses_arguments_(sql_.find("$3") != std::string::npos) {}

  const std::string& name() const override { return name_; }
  std::optional<BatchingStrategy> required_strategy() const override { return std::nullopt; }

  boost::asio::awaitable<Verdict> prepare(db::Connection&, const Bbm&, Target& target) const override {
    target.work_sql = sql_;
    replace_all(target.work_sql, "{{table}}", target.table_sql);
    replace_all(target.work_sql, "{{column}}", target.column_sql);
    replace_all(target.work_sql, "{{key}}", target.key_sql);
    // PostgreSQL rejects a parameter the statement never mentions, so $3 is sent only when used.
    target.work_params.clear();
    if (uses_arguments_) target.work_params.push_back(target.job_arguments.dump());
    co_return Verdict::ok();
  }

 private:
  std::string name_;
  std::string sql_;
  bool uses_arguments_;
};

}  // namespace

std::unique_ptr<WorkFunction> make_sql_function(std::string name, std::string sql) {
  return std::make_unique<SqlFunction>(std::move(name), std::move(sql));
}

}  // namespace bbmd::bbm

// SQL work functions from `<name>.sql` files: placeholders for quoted identifiers, bound
// parameters for values. Each file is parsed once when loaded, with PostgreSQL's own parser
// (libpg_query), so a file that is not one valid statement is refused before any migration runs it.
#include <pg_query.h>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "bbm/work/registry.hpp"
#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

void replace_all(std::string& text, std::string_view from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

void collect_params(const nlohmann::json& node, std::set<int>& out) {
  if (node.is_object()) {
    if (const auto it = node.find("ParamRef"); it != node.end()) out.insert(it->value("number", 0));
    for (const auto& [key, child] : node.items()) collect_params(child, out);
  } else if (node.is_array()) {
    for (const auto& child : node) collect_params(child, out);
  }
}

// The bound parameters the statement uses ($1, $2, ...). Throws std::invalid_argument when the
// text is not exactly one statement the parser accepts.
std::set<int> parse_params(std::string sql) {
  // The placeholders become quoted identifiers of the same length, so the parser's positions are
  // the file's; bbmd quotes the real names later.
  for (const std::string placeholder : {"{{table}}", "{{column}}", "{{key}}"}) {
    replace_all(sql, placeholder, "\"" + std::string(placeholder.size() - 2, 'x') + "\"");
  }
  const auto parsed = pg_query_parse(sql.c_str());
  std::string error = parsed.error ? parsed.error->message : "";
  const auto cursor = parsed.error ? parsed.error->cursorpos : 0;
  const auto tree = error.empty() ? nlohmann::json::parse(parsed.parse_tree, nullptr, false) : nlohmann::json();
  pg_query_free_parse_result(parsed);
  if (!error.empty()) {
    throw std::invalid_argument("not valid SQL: " + error + (cursor > 0 ? " at character " + std::to_string(cursor) : ""));
  }
  const auto statements = tree.value("stmts", nlohmann::json::array()).size();
  if (statements != 1) {
    throw std::invalid_argument("a work function is one statement; this file has " + std::to_string(statements));
  }
  std::set<int> params;
  collect_params(tree, params);
  return params;
}

class SqlFunction final : public WorkFunction {
 public:
  SqlFunction(std::string name, std::string sql) : name_(std::move(name)), sql_(std::move(sql)), params_(parse_params(sql_)) {}

  const std::string& name() const override { return name_; }
  std::optional<BatchingStrategy> required_strategy() const override { return std::nullopt; }

  boost::asio::awaitable<Verdict> prepare(db::Connection&, const Bbm&, Target& target) const override {
    // By range: $1, $2 the bounds, $3 the arguments. By limit: $1 the batch size, nothing else
    // (a function written for ranges would read the size as a bound).
    const bool by_limit = target.strategy == BatchingStrategy::null_keyset_limit;
    if (by_limit && (params_.contains(2) || params_.contains(3) || sql_.find("{{key}}") != std::string::npos)) {
      co_return Verdict::failure(FailureCode::invalid_batching_strategy,
                                 "work function '" + name_ + "' is written for key ranges ($2, $3 or {{key}}), but " +
                                     target.table_sql + " has no integer key to cut ranges of: it is batched by "
                                     "limit, and its work function gets only $1, the batch size");
    }
    target.work_sql = sql_;
    replace_all(target.work_sql, "{{table}}", target.table_sql);
    replace_all(target.work_sql, "{{column}}", target.column_sql);
    replace_all(target.work_sql, "{{key}}", target.key_sql);
    // PostgreSQL rejects a parameter the statement never mentions, so the arguments go only when used.
    target.work_params.clear();
    if (!by_limit && params_.contains(3)) target.work_params.push_back(target.job_arguments.dump());
    co_return Verdict::ok();
  }

 private:
  std::string name_;
  std::string sql_;
  std::set<int> params_;
};

}  // namespace

std::unique_ptr<WorkFunction> make_sql_function(std::string name, std::string sql) {
  return std::make_unique<SqlFunction>(std::move(name), std::move(sql));
}

}  // namespace bbmd::bbm

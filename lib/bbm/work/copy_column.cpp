// Built-in work function copy_column: sets `to = from` for the batch (the int-to-bigint pattern).
#include <boost/asio/awaitable.hpp>

#include "bbm/check/pg_catalog.hpp"
#include "bbm/work/registry.hpp"
#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

class CopyColumn final : public WorkFunction {
 public:
  const std::string& name() const override { return name_; }
  std::optional<BatchingStrategy> required_strategy() const override { return BatchingStrategy::id_keyset; }

  boost::asio::awaitable<Verdict> prepare(db::Connection& conn, const Bbm&, Target& target) const override {
    const auto& args = target.job_arguments;
    if (!args.is_object() || !args.contains("from") || !args.contains("to") || !args["from"].is_string() ||
        !args["to"].is_string()) {
      co_return Verdict::failure(FailureCode::invalid_job_arguments,
                                 R"(copy_column needs job_arguments {"from": "<column>", "to": "<column>"})");
    }
    for (const char* role : {"from", "to"}) {
      const auto column = args[role].get<std::string>();
      const auto found = co_await find_column(conn, target.table_oid, column);
      if (!found) {
        co_return Verdict::failure(FailureCode::invalid_bbm_column,
                                   std::string("copy_column '") + role + "' column '" + column + "' does not exist");
      }
    }
    const auto from = conn.quote_identifier(args["from"].get<std::string>());
    const auto to = conn.quote_identifier(args["to"].get<std::string>());
    // IS DISTINCT FROM: rows already equal are neither rewritten nor counted as migrated.
    target.work_sql = "UPDATE " + target.table_sql + " SET " + to + " = " + from + " WHERE " + target.key_sql +
                      " BETWEEN $1 AND $2 AND " + to + " IS DISTINCT FROM " + from;
    target.work_params.clear();
    co_return Verdict::ok();
  }

 private:
  std::string name_ = "copy_column";
};

}  // namespace

std::unique_ptr<WorkFunction> make_copy_column() { return std::make_unique<CopyColumn>(); }

}  // namespace bbmd::bbm

// Built-in work function fill_from_sequence: sets the migration's column to nextval(sequence)
// where it is NULL (null keyset batching).
#include <boost/asio/awaitable.hpp>

#include "bbm/check/pg_catalog.hpp"
#include "bbm/work/registry.hpp"
#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

class FillFromSequence final : public WorkFunction {
 public:
  const std::string& name() const override { return name_; }
  std::optional<BatchingStrategy> required_strategy() const override { return BatchingStrategy::null_keyset; }

  boost::asio::awaitable<Verdict> prepare(db::Connection& conn, const Bbm&, Target& target) const override {
    const auto& args = target.job_arguments;
    if (!args.is_object() || !args.contains("sequence") || !args["sequence"].is_string()) {
      co_return Verdict::failure(FailureCode::invalid_job_arguments,
                                 R"(fill_from_sequence needs job_arguments {"sequence": "<schema.sequence>"})");
    }
    const auto text = args["sequence"].get<std::string>();
    const auto name = split_qualified(text);
    std::optional<std::uint32_t> oid;
    if (name) oid = co_await find_sequence(conn, *name);
    if (!oid) {
      co_return Verdict::failure(FailureCode::invalid_job_arguments, "sequence '" + text + "' does not exist");
    }
    // The sequence travels as its oid, a bound value: no name is parsed twice.
    const auto set = "UPDATE " + target.table_sql + " SET " + target.column_sql + " = nextval(";
    if (target.strategy == BatchingStrategy::null_keyset_limit) {
      // Up to $1 rows still NULL; (tableoid, ctid) names a row of a partitioned parent too.
      target.work_sql = set + "$2::oid::regclass) WHERE (tableoid, ctid) IN (SELECT tableoid, ctid FROM " +
                        target.table_sql + " WHERE " + target.column_sql + " IS NULL LIMIT $1)";
    } else {
      target.work_sql = set + "$3::oid::regclass) WHERE " + target.key_sql + " BETWEEN $1 AND $2 AND " +
                        target.column_sql + " IS NULL";
    }
    target.work_params = {std::to_string(*oid)};
    co_return Verdict::ok();
  }

 private:
  std::string name_ = "fill_from_sequence";
};

}  // namespace

std::unique_ptr<WorkFunction> make_fill_from_sequence() { return std::make_unique<FillFromSequence>(); }

}  // namespace bbmd::bbm

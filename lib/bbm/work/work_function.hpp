#pragma once
// A work function turns a validated migration into the statement that changes one batch of rows.
// Compiled ones and SQL-file ones share this interface; bbm/batch.cpp runs the statement.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "bbm/model/bbm.hpp"
#include "bbm/model/verdict.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

class WorkFunction {
 public:
  virtual ~WorkFunction() = default;
  [[nodiscard]] virtual const std::string& name() const = 0;
  // The batching strategy the function is written for; nullopt accepts either.
  [[nodiscard]] virtual std::optional<BatchingStrategy> required_strategy() const = 0;
  // Checks the job arguments against the catalog (the target is already validated) and prepares
  // target.work_sql / work_params: the statement that changes the rows with key in [$1, $2].
  virtual boost::asio::awaitable<Verdict> prepare(db::Connection& conn, const Bbm& m, Target& target) const = 0;
};

}  // namespace bbmd::bbm

#pragma once
// What schema migrations need to know about BBMs: how far a named one has got (for required BBMs
// and required stops).
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

namespace bbmd::db {
class Connection;
}

namespace bbmd::schema {

struct BbmState {
  std::string name;
  int status = 0;
  double percent = 0;
  [[nodiscard]] bool finished() const noexcept;
  // "<name> (status active, 42.0% done)"
  [[nodiscard]] std::string describe() const;
};

// nullopt when no BBM has this name: an unknown name is never taken as finished.
boost::asio::awaitable<std::optional<BbmState>> bbm_state(db::Connection& conn, const std::string& name);

// The BBMs among `names` that are not finished; throws std::runtime_error naming any unknown one.
boost::asio::awaitable<std::vector<BbmState>> unfinished_bbms(db::Connection& conn,
                                                              const std::vector<std::string>& names,
                                                              const std::string& wanted_by);

}  // namespace bbmd::schema

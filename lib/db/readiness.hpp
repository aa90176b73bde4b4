#pragma once
// Answers /readyz: is the database reachable, and does the caller's probe find it usable? Keeps
// one dedicated connection (outside the pool, so busy workers never delay the answer) and bounds
// each check.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "db/connection.hpp"

namespace bbmd::db {

class Readiness {
 public:
  // What the database must offer besides answering: "" when it does, else the reason.
  using Probe = std::function<boost::asio::awaitable<std::string>(Connection&)>;

  Readiness(boost::asio::any_io_executor ex, ConnParams params, std::chrono::milliseconds timeout, Probe probe);
  ~Readiness();
  // "" when ready, else the reason. Concurrent callers share the check in flight's last answer.
  boost::asio::awaitable<std::string> check();

 private:
  boost::asio::awaitable<std::string> check_now();
  boost::asio::any_io_executor ex_;
  ConnParams params_;
  std::chrono::milliseconds timeout_;
  Probe probe_;
  std::unique_ptr<Connection> conn_;
  bool in_flight_ = false;
  std::string last_ = "not checked yet";
};

}  // namespace bbmd::db

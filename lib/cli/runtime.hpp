#pragma once
// Glue for one-shot CLI commands: run a coroutine on a fresh io_context, connect from config.
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>

#include "config/config.hpp"
#include "db/connection.hpp"

namespace bbmd::cli {

// Runs `body` to completion on its own io_context and returns its exit code; exceptions propagate.
int run_to_completion(std::function<boost::asio::awaitable<int>()> body);

// Connects with the config's database settings (throws db::Error).
boost::asio::awaitable<std::unique_ptr<db::Connection>> connect(const config::Config& cfg,
                                                                const std::string& application_name);

}  // namespace bbmd::cli

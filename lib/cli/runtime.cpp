// Running one-shot commands on an io_context (see runtime.hpp).
#include "cli/runtime.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <exception>

#include "db/conninfo.hpp"

namespace bbmd::cli {

int run_to_completion(std::function<boost::asio::awaitable<int>()> body) {
  boost::asio::io_context ioc;
  int code = 0;
  std::exception_ptr failure;
  boost::asio::co_spawn(ioc, body(), [&](std::exception_ptr e, int result) {
    failure = e;
    code = result;
  });
  ioc.run();
  if (failure) std::rethrow_exception(failure);
  return code;
}

boost::asio::awaitable<std::unique_ptr<db::Connection>> connect(const config::Config& cfg,
                                                                const std::string& application_name) {
  co_return co_await db::Connection::connect(co_await boost::asio::this_coro::executor,
                                             db::conn_params(cfg.database, application_name));
}

}  // namespace bbmd::cli

// `bbmd database migrate up`: bbmd's own schema (this first version; pre/post folders come next).
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/runtime.hpp"
#include "metrics/metrics.hpp"
#include "schema/migrator.hpp"
#include "schema/own_schema.hpp"

namespace bbmd::cli {

int database_migrate_up(const config::Config& cfg) {
  return run_to_completion([&]() -> boost::asio::awaitable<int> {
    auto conn = co_await connect(cfg, "bbmd-migrate");
    co_await schema::lock_migrations(*conn);
    co_await schema::ensure_records(*conn);
    const auto applied = co_await schema::apply_pending(
        *conn, schema::Kind::pre, schema::own_migrations(),
        [](const std::string& version) { std::cout << "applying " << version << std::endl; });
    co_await schema::unlock_migrations(*conn);
    std::cout << applied.size() << " pre-deployment migration" << (applied.size() == 1 ? "" : "s") << " applied\n";
    co_return kExitOk;
  });
}

}  // namespace bbmd::cli

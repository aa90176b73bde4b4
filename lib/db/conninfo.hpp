#pragma once
// Builds libpq connection parameters from the config, and a printable form without the password.
#include <string>

#include "config/config.hpp"
#include "db/connection.hpp"

namespace bbmd::db {

[[nodiscard]] ConnParams conn_params(const config::Database& db, std::string application_name = "bbmd");
// "host=... port=... dbname=... user=..." for logs; never includes the password.
[[nodiscard]] std::string describe(const config::Database& db);

}  // namespace bbmd::db

#pragma once
// libpq connection options built from a config (input as for the config entry: YAML, then
// optionally a NUL byte and REGISTRY_* overrides). Every option reaches libpq whole (libpq takes
// C strings, so a NUL inside a value would silently cut it), the password only as "password",
// and the printable description never holds the password.
#include "db/conninfo.hpp"
#include "fuzz/entries/config.hpp"

namespace bbmd::fuzz {

inline std::string conninfo(std::string_view input) {
  const auto [yaml, env_text] = split_at_nul(input);
  std::string error;
  const auto loaded = config_detail::try_load(yaml, config_detail::parse_env(env_text), error);
  if (!loaded) return rejected(error);
  const auto& db = loaded->database;
  std::string out = "ok:";
  bool password_sent = false;
  for (const auto& [keyword, value] : db::conn_params(db).keywords) {
    require(value.find('\0') == std::string::npos, keyword + " holds a NUL byte that libpq would cut at");
    const bool password = keyword == "password";
    require(!password || value == db.password, "the password option is not the configured password");
    password_sent = password_sent || password;
    out += " " + keyword + "=" + (password ? "<set>" : value);
  }
  require(password_sent == !db.password.empty(), "password option sent without a password, or missing");
  // Text equal to the password elsewhere (a host named like it) is no leak: it stays when the
  // password changes.
  auto other = db;
  other.password = config_detail::altered(db.password);
  if (!db.password.empty() && db::describe(db).find(db.password) != std::string::npos) {
    require(db::describe(other).find(db.password) != std::string::npos, "the description shows the password");
  }
  return out;
}

}  // namespace bbmd::fuzz

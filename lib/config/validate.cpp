// Semantic checks after parsing: per-key ranges and choices from the table, then cross-key rules.
#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <string>

#include "config/detail.hpp"
#include "config/duration.hpp"
#include "config/keys.hpp"
#include "net/listen_address.hpp"

namespace bbmd::config::detail {
namespace {

// "line 4: database.port" or "database.port (from environment variable REGISTRY_DATABASE_PORT)".
std::string where(const Origins& origins, std::string_view path) {
  const auto it = origins.find(path);
  if (it == origins.end()) return std::string(path);
  if (it->second.starts_with("line ")) return it->second + ": " + std::string(path);
  return std::string(path) + " (from " + it->second + ")";
}

std::string bound_text(const KeyInfo& key, double v) {
  if (key.type == KeyType::duration) return format_duration(Duration{static_cast<Duration::rep>(v)});
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;  // shortest form: "1", "0.5"
  return std::string(buf, end);
}

// "must be between 1 and 65535", "must be at least 1", "must be at least 0 and less than 1".
std::string range_text(const KeyInfo& key) {
  const Range& r = key.range;
  if (r.min && r.max && !r.max_exclusive) {
    return "must be between " + bound_text(key, *r.min) + " and " + bound_text(key, *r.max);
  }
  std::string text = "must be";
  if (r.min) text += " at least " + bound_text(key, *r.min);
  if (r.min && r.max) text += " and";
  if (r.max) text += (r.max_exclusive ? " less than " : " at most ") + bound_text(key, *r.max);
  return text;
}

// Numeric view of a field for range checks; durations in milliseconds.
std::optional<double> numeric(const KeyInfo& key, const Config& config) {
  return std::visit(
      [](const auto* v) -> std::optional<double> {
        using V = std::remove_cvref_t<decltype(*v)>;
        if constexpr (std::is_same_v<V, int> || std::is_same_v<V, double>) {
          return static_cast<double>(*v);
        } else if constexpr (std::is_same_v<V, Duration>) {
          return static_cast<double>(v->count());
        } else {
          return std::nullopt;
        }
      },
      key.read(config));
}

void check_range(const KeyInfo& key, const Config& config, const Origins& origins, const std::string& label) {
  const Range& r = key.range;
  const auto v = numeric(key, config);
  if (!v || (!r.min && !r.max)) return;
  const bool low = r.min && *v < *r.min;
  const bool high = r.max && (r.max_exclusive ? *v >= *r.max : *v > *r.max);
  if (!low && !high) return;
  throw ConfigError(label + ": " + where(origins, key.path) + ": " + range_text(key) + ", got " +
                    display(key, config));
}

void check_choice(const KeyInfo& key, const Config& config, const Origins& origins, const std::string& label) {
  if (key.choices.empty()) return;
  const ConstFieldRef ref = key.read(config);
  const auto* value = std::get_if<const std::string*>(&ref);
  if (value == nullptr) return;
  if (std::find(key.choices.begin(), key.choices.end(), **value) != key.choices.end()) return;
  std::string list;
  for (const auto& c : key.choices) list += (list.empty() ? "" : ", ") + std::string(c);
  throw ConfigError(label + ": " + where(origins, key.path) + ": must be one of " + list + "; got \"" + **value +
                    "\"");
}

// A URI or conninfo string pasted into one of these keys would carry its password into the
// server's and libpq's error messages ("database ... does not exist") and into bbmd's own logs,
// which print host, user and dbname. Neither form belongs in a single part, so it is refused
// without quoting it.
void check_not_connection_string(const Config& config, const Origins& origins, const std::string& label) {
  for (const std::string_view path : {"database.host", "database.user", "database.dbname"}) {
    const KeyInfo* key = find_key(path);
    const auto* value = std::get<const std::string*>(key->read(config));
    if (value->find("://") == std::string::npos && value->find('=') == std::string::npos) continue;
    throw ConfigError(label + ": " + where(origins, path) +
                      ": looks like a connection string (the value is not shown: it may hold a password); give "
                      "its parts as database.host, database.port, database.user, database.password and "
                      "database.dbname");
  }
}

// libpq pairs the hosts and ports of its multi-host form by position; with counts that differ it
// refuses every connection, so the mismatch is named here instead, before anything connects.
void check_hosts_and_ports(const Config& config, const Origins& origins, const std::string& label) {
  const auto hosts = host_list(config.database);
  if (hosts.size() > 1 && std::find(hosts.begin(), hosts.end(), "") != hosts.end()) {
    throw ConfigError(label + ": " + where(origins, "database.host") + ": an empty entry in the host list \"" +
                      config.database.host + "\"");
  }
  const auto& ports = config.database.ports;
  if (ports.empty() || ports.size() == hosts.size()) return;
  throw ConfigError(label + ": " + where(origins, "database.port") + " lists " + std::to_string(ports.size()) +
                    " ports (" + port_text(config.database) + ") but database.host lists " +
                    std::to_string(hosts.size()) + (hosts.size() == 1 ? " host" : " hosts") +
                    ": give one port for every host, or one per host in the same order");
}

// Checked here rather than when serve binds, so that every command rejects it naming the key.
void check_listen_address(const Config& config, const Origins& origins, const std::string& label) {
  const auto& addr = config.http_debug.addr;
  if (addr.empty()) return;
  try {
    (void)net::parse_listen_address(addr);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(label + ": " + where(origins, "http.debug.addr") + ": " + e.what());
  }
}

void check_cross_keys(const Config& config, const Origins& origins, const std::string& label) {
  const int workers = config.backgroundmigrations.workers;
  if (config.pool.maxopen < workers + 1) {
    throw ConfigError(label + ": " + where(origins, "database.pool.maxopen") + " is " +
                      std::to_string(config.pool.maxopen) + " but database.backgroundmigrations.workers is " +
                      std::to_string(workers) +
                      ": each worker holds its own connection and the daemon needs one spare connection for "
                      "its other queries, so maxopen must be at least workers + 1 = " +
                      std::to_string(workers + 1));
  }
  const auto& backoff = config.backgroundmigrations.backoff;
  if (backoff.initial > backoff.max) {
    throw ConfigError(label + ": " + where(origins, "database.backgroundmigrations.backoff.initial") + " (" +
                      format_duration(backoff.initial) +
                      ") must not exceed database.backgroundmigrations.backoff.max (" +
                      format_duration(backoff.max) + ")");
  }
}

}  // namespace

void validate(const Config& config, const Origins& origins, const std::string& label) {
  for (const auto& key : keys()) {
    check_range(key, config, origins, label);
    check_choice(key, config, origins, label);
  }
  check_not_connection_string(config, origins, label);
  check_hosts_and_ports(config, origins, label);
  check_cross_keys(config, origins, label);
  check_listen_address(config, origins, label);
}

}  // namespace bbmd::config::detail

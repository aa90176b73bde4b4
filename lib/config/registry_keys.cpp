// The registry's own sections and keys, as REGISTRY.md lists them (see registry_keys.hpp).
#include "config/registry_keys.hpp"

#include <algorithm>

namespace bbmd::config {
namespace {

// Each entry covers itself and everything beneath it.
constexpr std::string_view kRegistryOwned[] = {
    "version",
    "log.hooks",
    "log.accesslog",
    "storage",
    "auth",
    "middleware",
    "reporting",
    "notifications",
    "redis",
    "health",
    "proxy",
    "validation",
    "compatibility",
    "gc",
    "rate_limiter",
    "profiling",
    "http.debug.pprof",
    "database.enabled",
    "database.schema",
    "database.primary",
    "database.draintimeout",
    "database.pool.maxidle",
    "database.pool.maxlifetime",
    "database.pool.maxidletime",
    "database.loadbalancing",
    "database.metrics",
};

// The debug listener is the one part of `http` that bbmd shares; the rest (addr, secret, tls,
// headers, ...) is the registry's API listener.
constexpr std::string_view kSharedHttpSection = "http.debug";

bool covers(std::string_view section, std::string_view path) {
  return path == section || (path.size() > section.size() && path.starts_with(section) && path[section.size()] == '.');
}

}  // namespace

bool registry_owned(std::string_view path) {
  if (path.starts_with("http.") && !covers(kSharedHttpSection, path)) return true;
  return std::any_of(std::begin(kRegistryOwned), std::end(kRegistryOwned),
                     [&](std::string_view owned) { return covers(owned, path); });
}

}  // namespace bbmd::config

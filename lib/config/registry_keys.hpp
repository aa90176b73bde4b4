#pragma once
// The parts of the registry's config.yml that bbmd accepts and never reads (REGISTRY.md): the
// registry and its sidecars share one file, so these must not be errors, and their values
// (storage and auth secrets among them) are skipped unread, so no message can echo them.
#include <string_view>

namespace bbmd::config {

// True when `path` ("storage.s3.secretkey", "http.addr") is the registry's or lies beneath a
// section of the registry's. bbmd's own keys (keys.hpp) are looked up first and never reach here.
[[nodiscard]] bool registry_owned(std::string_view path);

}  // namespace bbmd::config

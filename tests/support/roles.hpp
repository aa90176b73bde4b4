#pragma once
// Login roles for the privilege, secrets and revoked-grant tests. Roles belong to the whole
// cluster, so each test's names carry its database's name, and a guard drops them (with whatever
// they own or were granted) before the database goes.
#include <string>
#include <vector>

#include "config/config.hpp"
#include "support/test_db.hpp"

namespace bbmd::test {

// `prefix` + "_" + the database's name, e.g. bbmd_runtime_bbmd_t_4242_0.
inline std::string role_name(const TestDatabase& db, const std::string& prefix) {
  return prefix + "_" + db.name();
}

// Drops the roles on destruction; declare it after the TestDatabase and before any bbmd process.
class DroppedRoles {
 public:
  DroppedRoles(TestDatabase& db, std::vector<std::string> roles) : db_(db), roles_(std::move(roles)) {}
  ~DroppedRoles() {
    for (const auto& role : roles_) {
      try {
        db_.exec("DROP OWNED BY " + role + " CASCADE; DROP ROLE " + role);
      } catch (...) {
        // The role may not exist (the test failed before creating it); the cluster is throwaway.
      }
    }
  }
  DroppedRoles(const DroppedRoles&) = delete;
  DroppedRoles& operator=(const DroppedRoles&) = delete;

 private:
  TestDatabase& db_;
  std::vector<std::string> roles_;
};

// The test database's connection settings, logging in as `role` with `password`.
inline config::Database login_as(const TestDatabase& db, const std::string& role, const std::string& password) {
  auto d = db.config();
  d.user = role;
  d.password = password;
  return d;
}

}  // namespace bbmd::test

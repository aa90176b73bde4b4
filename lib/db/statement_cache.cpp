// Prepared statement names per session, retired after a number of uses (statement_cache.hpp).
#include "db/statement_cache.hpp"

#include <utility>

namespace bbmd::db {

std::optional<StatementCache::Use> StatementCache::use(const std::string& sql) {
  auto it = entries_.find(sql);
  if (it == entries_.end()) {
    if (entries_.size() >= kCapacity) return std::nullopt;
    it = entries_.emplace(sql, Entry{}).first;
  } else if (it->second.uses >= kReplanAfterUses) {
    retired_.push_back(std::move(it->second.name));
    it->second = Entry{};
  }
  Entry& entry = it->second;
  const bool parse = entry.uses == 0;
  if (parse) entry.name = prefix_ + std::to_string(next_++);
  ++entry.uses;
  return Use{entry.name, parse};
}

void StatementCache::forget(const std::string& sql) { entries_.erase(sql); }

std::vector<std::string> StatementCache::take_retired() { return std::exchange(retired_, {}); }

void StatementCache::retire(std::string name) { retired_.push_back(std::move(name)); }

}  // namespace bbmd::db

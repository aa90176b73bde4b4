// The throttle's config keys: conservative defaults, YAML and REGISTRY_* overrides.
#include <catch2/catch.hpp>
#include <map>

#include "config/keys.hpp"
#include "config/loader.hpp"
#include "throttle/units.hpp"

namespace cfg = bbmd::config;
using namespace std::chrono_literals;

namespace {
cfg::Config load(const std::string& yaml, std::map<std::string, std::string> env = {}) {
  return cfg::load_string(yaml, "/etc/bbmd", [env = std::move(env)](const std::string& n) -> std::optional<std::string> {
    const auto it = env.find(n);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
}
}  // namespace

TEST_CASE("throttle defaults: cheap indicators on with conservative limits, WAL rate off", "[throttle][unit]") {
  const auto t = load("{}").backgroundmigrations.throttle;
  CHECK(t.checkinterval == 1s);
  CHECK(t.querytimeout == 1s);
  CHECK(t.walarchive.enabled);
  CHECK(t.walarchive.maxsegments == 64);
  CHECK_FALSE(t.walrate.enabled);
  CHECK(t.replicationlag.enabled);
  CHECK(t.replicationlag.maxlag == 60s);
  CHECK(t.replicationlag.maxbytes == 1073741824.0);
  CHECK(t.slotretention.enabled);
  CHECK(t.slotretention.maxbytes == 10737418240.0);
  CHECK(t.autovacuum.enabled);
  CHECK(t.lockwaiters.enabled);
  CHECK(t.lockwaiters.maxwaiters == 0);
  CHECK(t.oldesttransaction.enabled);
  CHECK(t.oldesttransaction.maxage == 1h);
}

TEST_CASE("throttle keys load from YAML and the environment", "[throttle][unit]") {
  const auto c = load(R"(
database:
  backgroundmigrations:
    throttle:
      checkinterval: 250ms
      walarchive: {enabled: false, maxsegments: 8}
      walrate: {enabled: true, maxbytespersecond: 1048576}
      replicationlag: {maxlag: 5s, maxbytes: 50000000000}
      lockwaiters: {maxwaiters: 2}
      oldesttransaction: {maxage: 10m}
)",
                      {{"REGISTRY_DATABASE_BACKGROUNDMIGRATIONS_THROTTLE_AUTOVACUUM_ENABLED", "false"}});
  const auto& t = c.backgroundmigrations.throttle;
  CHECK(t.checkinterval == 250ms);
  CHECK_FALSE(t.walarchive.enabled);
  CHECK(t.walarchive.maxsegments == 8);
  CHECK(t.walrate.enabled);
  CHECK(t.walrate.maxbytespersecond == 1048576.0);
  CHECK(t.replicationlag.maxlag == 5s);
  CHECK(t.replicationlag.maxbytes == 50000000000.0);  // past int's range: why byte limits are numbers
  CHECK(t.lockwaiters.maxwaiters == 2);
  CHECK(t.oldesttransaction.maxage == 10min);
  CHECK_FALSE(t.autovacuum.enabled);
  // Every throttle key can change on SIGHUP.
  for (const auto& k : cfg::keys()) {
    if (k.path.find(".throttle.") != std::string_view::npos) CHECK(k.reloadable);
  }
}

TEST_CASE("a negative throttle limit is refused, naming the key", "[throttle][unit]") {
  CHECK_THROWS_WITH(load("database: {backgroundmigrations: {throttle: {lockwaiters: {maxwaiters: -1}}}}"),
                    Catch::Contains("throttle.lockwaiters.maxwaiters"));
}

TEST_CASE("throttle details write sizes and durations in words", "[throttle][unit]") {
  CHECK(bbmd::throttle::bytes_text(512) == "512 B");
  CHECK(bbmd::throttle::bytes_text(1536) == "1.5 KiB");
  CHECK(bbmd::throttle::bytes_text(10737418240.0) == "10.0 GiB");
  CHECK(bbmd::throttle::seconds_text(12.44) == "12.4s");
}

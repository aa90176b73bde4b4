// Indicator: the operator's flag file (throttle.flagfile); stop while it exists.
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "throttle/indicators.hpp"
#include "throttle/reasons.hpp"

namespace bbmd::throttle {
namespace {

// A stat() on a local path: cheap enough to do before every batch, so it is never cached and
// `touch`/`rm` take effect at the next batch.
class FlagFile final : public Indicator {
 public:
  explicit FlagFile(std::filesystem::path path) : path_(std::move(path)) {}

  [[nodiscard]] std::string_view name() const override { return reasons::kFlagFile; }

  boost::asio::awaitable<std::optional<Stop>> check(db::Connection&, const Context&) override {
    std::error_code ec;
    const auto st = std::filesystem::status(path_, ec);
    // Missing is the normal "go"; anything else (permission denied on a parent) is an error.
    if (ec && ec != std::errc::no_such_file_or_directory) {
      throw std::system_error(ec, "flag file " + path_.string());
    }
    if (!std::filesystem::exists(st)) co_return std::nullopt;
    co_return Stop{std::string(name()), "flag file " + path_.string() + " exists (stops while it exists)"};
  }

 private:
  std::filesystem::path path_;
};

}  // namespace

std::unique_ptr<Indicator> make_flag_file(std::filesystem::path path) {
  return std::make_unique<FlagFile>(std::move(path));
}

}  // namespace bbmd::throttle

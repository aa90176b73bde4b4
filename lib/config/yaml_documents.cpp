// Counting a YAML stream's documents without building them (see detail.hpp).
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <sstream>

#include "config/detail.hpp"

namespace bbmd::config::detail {
namespace {

// Remembers whether the last document held anything but a null root.
class ContentSeen final : public YAML::EventHandler {
 public:
  [[nodiscard]] bool seen() const { return seen_; }
  void OnDocumentStart(const YAML::Mark&) override { seen_ = false; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { seen_ = true; }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override { seen_ = true; }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    seen_ = true;
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    seen_ = true;
  }
  void OnMapEnd() override {}

 private:
  bool seen_ = false;
};

}  // namespace

std::size_t count_documents(const std::string& yaml) {
  std::istringstream in(yaml);
  YAML::Parser parser(in);
  ContentSeen handler;
  std::size_t count = 0;
  while (parser.HandleNextDocument(handler) && handler.seen()) ++count;
  return count;
}

}  // namespace bbmd::config::detail

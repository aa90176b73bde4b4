#pragma once
// What every fuzz entry shares. An entry turns one input into a one-line outcome ("ok: ..." or
// "rejected: <the parser's message>"); the libFuzzer targets (tests/fuzz/target.cpp) and the
// gcc regression test (tests/unit/fuzz_regressions_test.cpp) call the same entry. An input that
// breaks a parser's contract (an exception it must not throw, a round trip that does not hold,
// a secret in a message) throws Violation, which aborts the fuzzer and fails the test.
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace bbmd::fuzz {

class Violation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

inline void require(bool holds, const std::string& what) {
  if (!holds) throw Violation(what);
}

// Inputs that carry two parts (text and environment, header and token) split at the first NUL
// byte; without one, the second part is empty.
inline std::pair<std::string_view, std::string_view> split_at_nul(std::string_view input) {
  const auto nul = input.find('\0');
  if (nul == std::string_view::npos) return {input, {}};
  return {input.substr(0, nul), input.substr(nul + 1)};
}

inline std::string rejected(std::string_view message) { return "rejected: " + std::string(message); }

}  // namespace bbmd::fuzz

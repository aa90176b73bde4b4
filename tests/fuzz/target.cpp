// One libFuzzer target; CMakeLists.txt builds this file once per entry, naming the entry's
// header (BBMD_FUZZ_HEADER) and function (BBMD_FUZZ_ENTRY). A Violation or any exception the
// entry lets through ends the run as a crash, with the input saved.
#include <cstddef>
#include <cstdint>

#include BBMD_FUZZ_HEADER

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)bbmd::fuzz::BBMD_FUZZ_ENTRY(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

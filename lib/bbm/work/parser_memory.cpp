// Giving back the parser's memory after start-up (see parser_memory.hpp).
#include "bbm/work/parser_memory.hpp"

#include <link.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

namespace bbmd::bbm {

namespace {

int page_out_parser(dl_phdr_info* info, std::size_t, void*) {
  if (info->dlpi_name == nullptr || std::strstr(info->dlpi_name, "libpg_query") == nullptr) return 0;
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& segment = info->dlpi_phdr[i];
    // Writable segments hold relocated or changed data, which only swap could take.
    if (segment.p_type != PT_LOAD || (segment.p_flags & PF_W) != 0) continue;
    const auto start = info->dlpi_addr + segment.p_vaddr;
    const auto begin = start & ~(page - 1);
    const auto end = (start + segment.p_memsz + page - 1) & ~(page - 1);
    madvise(reinterpret_cast<void*>(begin), end - begin, MADV_PAGEOUT);
  }
  return 1;  // found: stop iterating
}

}  // namespace

// Not pg_query_exit(): Debian's libpg_query leaves the thread marked initialised after it, so a
// later parse (a schema migration's split) would use a freed context.
void release_parser_memory() noexcept {
  malloc_trim(0);  // the parse trees' freed heap
  dl_iterate_phdr(page_out_parser, nullptr);
}

}  // namespace bbmd::bbm

#pragma once
// What PostgreSQL's parser (libpg_query) keeps once it has run: serve parses the SQL work-function
// files at start and never again, so about 1.8 MB of its ~19 MB resident set need not stay.

namespace bbmd::bbm {

// Returns freed heap to the kernel, and asks it to reclaim the resident pages of the parser's
// code and read-only data (MADV_PAGEOUT; clean file pages, read back from the page
// cache if the parser runs again). Best effort: an older kernel or a static build changes nothing.
void release_parser_memory() noexcept;

}  // namespace bbmd::bbm

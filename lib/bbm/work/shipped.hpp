#pragma once
// The SQL work functions bbmd ships (sql/background/<job_signature_name>.sql, compiled in by
// cmake/embed_sql.cmake): the GitLab container registry's signatures, so that the BBMs a registry
// database has queued run with no files of the operator's.
#include <string_view>
#include <vector>

namespace bbmd::bbm {

struct EmbeddedFile {
  std::string_view name;  // e.g. populateBlobsIDColumn.sql
  std::string_view content;
};

// Sorted by name.
const std::vector<EmbeddedFile>& embedded_work_functions();

}  // namespace bbmd::bbm

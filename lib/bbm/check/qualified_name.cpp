// "schema.name" splitting (see qualified_name.hpp).
#include "bbm/check/qualified_name.hpp"

namespace bbmd::bbm {

std::optional<QualifiedName> split_qualified(const std::string& text) {
  const auto dot = text.find('.');
  if (dot == std::string::npos) {
    if (text.empty()) return std::nullopt;
    return QualifiedName{"public", text};
  }
  if (text.find('.', dot + 1) != std::string::npos) return std::nullopt;
  QualifiedName q{text.substr(0, dot), text.substr(dot + 1)};
  if (q.schema.empty() || q.name.empty()) return std::nullopt;
  return q;
}

}  // namespace bbmd::bbm

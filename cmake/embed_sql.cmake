# Turns ${DIR}/*.sql into a C++ table of (file name, contents), sorted by name: the function
# ${FUNCTION} in namespace ${NAMESPACE}, declared in ${HEADER} with the struct EmbeddedFile.
file(GLOB files "${DIR}/*.sql")
list(SORT files)
set(body "// Generated from ${DIR} by cmake/embed_sql.cmake. Do not edit.\n#include \"${HEADER}\"\n\nnamespace ${NAMESPACE} {\n\nconst std::vector<EmbeddedFile>& ${FUNCTION}() {\n  static const std::vector<EmbeddedFile> files = {\n")
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME)
  file(READ "${f}" content)
  set(body "${body}    {\"${name}\", R\"bbmdsql(${content})bbmdsql\"},\n")
endforeach()
set(body "${body}  };\n  return files;\n}\n\n}  // namespace ${NAMESPACE}\n")
file(WRITE "${OUT}" "${body}")

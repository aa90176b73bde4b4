# What `cmake --install` puts where, and the Debian package CPack builds from it
# (`cpack --config <build>/CPackConfig.cmake`; tests/e2e/ops_package_test.cpp builds and checks it):
# the binary, the systemd unit and sysusers file, example config, a man page made by help2man from
# `bbmd --help`, and bash completion; runtime dependencies are computed by dpkg-shlibdeps.

install(TARGETS bbmd RUNTIME DESTINATION bin)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/bbmd.service DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/bbmd.sysusers.conf DESTINATION lib/sysusers.d RENAME bbmd.conf)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/config.example.yml ${CMAKE_SOURCE_DIR}/systemd/bbmd.env.example
        DESTINATION share/doc/bbmd/examples)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/completion/bbmd.bash DESTINATION share/bash-completion/completions
        RENAME bbmd)

# The man page, from the binary's own --help (help2man, deploy/install-deps.sh installs it).
find_program(BBMD_HELP2MAN help2man REQUIRED)
set(BBMD_MAN_PAGE ${CMAKE_BINARY_DIR}/bbmd.1.gz)
add_custom_command(
  OUTPUT ${BBMD_MAN_PAGE}
  COMMAND ${BBMD_HELP2MAN} --no-info --version-string=${PROJECT_VERSION}
          "--name=batched background migrations for PostgreSQL" --output=${CMAKE_BINARY_DIR}/bbmd.1 $<TARGET_FILE:bbmd>
  COMMAND gzip -9nf ${CMAKE_BINARY_DIR}/bbmd.1
  DEPENDS bbmd
  COMMENT "Writing the man page with help2man")
add_custom_target(bbmd_man ALL DEPENDS ${BBMD_MAN_PAGE})
install(FILES ${BBMD_MAN_PAGE} DESTINATION share/man/man1)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bbmd)
set(CPACK_PACKAGE_CONTACT "bbmd maintainers <bbmd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "batched background migrations for PostgreSQL")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "batched background migrations for PostgreSQL\n bbmd runs large data changes on PostgreSQL in batches while the\n application keeps serving, as a sidecar of the GitLab container registry\n or as a systemd service, and applies the schema migrations that queue them.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # bbmd_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends: from the libraries the binary links (dpkg-shlibdeps)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_SOURCE_DIR}/deploy/debian/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# cpack installs what is built; the build (e.g. of the test programs) is not its job.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)
include(CPack)

# `cmake --install <build> --prefix <dir>`: the headers, libchaperon.a, libchaperon_main.a,
# libchaperon_cluster.a and libchaperon_api.a (which the command line links), the
# chaperon binary with the examples, and the CMake package that find_package(chaperon) reads:
#   <prefix>/lib/cmake/chaperon/chaperonConfig.cmake, chaperonConfigVersion.cmake,
#   chaperonTargets.cmake (chaperon::chaperon, chaperon::main, chaperon::cluster, chaperon::api),
#   chaperon_load_test.cmake.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CHAPERON_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/chaperon)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/chaperon
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(TARGETS chaperon chaperon_main chaperon_cluster chaperon_api EXPORT chaperonTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(TARGET chaperon-cli)
  install(TARGETS chaperon-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(EXPORT chaperonTargets NAMESPACE chaperon:: DESTINATION ${CHAPERON_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/chaperonConfig.cmake.in
  ${PROJECT_BINARY_DIR}/chaperonConfig.cmake INSTALL_DESTINATION ${CHAPERON_CMAKE_DIR})
# 0.x: a minor version may change the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/chaperonConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/chaperonConfig.cmake
  ${PROJECT_BINARY_DIR}/chaperonConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/chaperon_load_test.cmake
  DESTINATION ${CHAPERON_CMAKE_DIR})

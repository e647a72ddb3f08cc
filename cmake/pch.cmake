# One precompiled header for the programs and tests of this build. nlohmann/json is most of what a
# file including <chaperon/chaperon.hpp> parses (about 2.5 of its 4.5 s with -O2); parsed once
# here, it is loaded by every file of the targets that call chaperon_use_pch(). The library's own
# sources do not use it: their time goes into Asio and Beast, and ccache serves them.
#
# GCC accepts the header for a file compiled with other -D definitions as long as they do not
# change the header, so one header serves every target of a build directory (the sanitizer
# builds make their own, with their flags).
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/chaperon_pch.cpp
  CONTENT "// Owner of the shared precompiled header (cmake/pch.cmake).\n")
add_library(chaperon_pch OBJECT EXCLUDE_FROM_ALL ${PROJECT_BINARY_DIR}/chaperon_pch.cpp)
target_compile_options(chaperon_pch PRIVATE ${CHAPERON_WARNINGS})
target_compile_features(chaperon_pch PRIVATE cxx_std_20)
# The include folder, not the library: the header does not wait for the library to be built.
target_include_directories(chaperon_pch PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(chaperon_pch PRIVATE nlohmann_json::nlohmann_json)
target_precompile_headers(chaperon_pch PRIVATE <nlohmann/json.hpp> <chaperon/chaperon.hpp>)

# GCC stores a checksum of every header in the precompiled header and, finding one whose bytes
# differ, includes that header again (redefinitions). ccache's preprocessor mode hashes headers
# without their comments, so after a comment-only edit it would hand back a header precompiled
# from the old bytes; its depend mode hashes the headers' bytes instead.
get_target_property(launcher chaperon_pch CXX_COMPILER_LAUNCHER)
if(launcher AND CHAPERON_CCACHE)
  list(FIND launcher ${CHAPERON_CCACHE} at)
  if(NOT at EQUAL -1)
    list(INSERT launcher ${at} CCACHE_DEPEND=1)
    set_target_properties(chaperon_pch PROPERTIES CXX_COMPILER_LAUNCHER "${launcher}")
  endif()
endif()

function(chaperon_use_pch target)
  target_precompile_headers(${target} REUSE_FROM chaperon_pch)
endfunction()

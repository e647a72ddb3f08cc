# Prometheus export: the remote-write messages compiled from src/export/prometheus/remote_write.proto
# (protobuf from Debian: protobuf-compiler, libprotobuf-dev) and snappy (libsnappy-dev) for the
# request bodies. Included from the root CMakeLists.txt after the chaperon target is defined.
find_package(Protobuf REQUIRED)
find_package(Snappy REQUIRED CONFIG)

set(CHAPERON_PROMETHEUS_PROTO ${PROJECT_SOURCE_DIR}/src/export/prometheus/remote_write.proto)
set(CHAPERON_PROMETHEUS_GEN ${PROJECT_BINARY_DIR}/generated)
file(MAKE_DIRECTORY ${CHAPERON_PROMETHEUS_GEN}/prometheus)
add_custom_command(
  OUTPUT ${CHAPERON_PROMETHEUS_GEN}/prometheus/remote_write.pb.cc
         ${CHAPERON_PROMETHEUS_GEN}/prometheus/remote_write.pb.h
  COMMAND protobuf::protoc
          --proto_path=${PROJECT_SOURCE_DIR}/src/export/prometheus
          --cpp_out=${CHAPERON_PROMETHEUS_GEN}/prometheus
          ${CHAPERON_PROMETHEUS_PROTO}
  DEPENDS ${CHAPERON_PROMETHEUS_PROTO} protobuf::protoc
  COMMENT "Generating the Prometheus remote-write messages"
  VERBATIM)

# Generated code is not ours to warn about.
set_source_files_properties(${CHAPERON_PROMETHEUS_GEN}/prometheus/remote_write.pb.cc
  PROPERTIES COMPILE_OPTIONS "-w")
target_sources(chaperon PRIVATE ${CHAPERON_PROMETHEUS_GEN}/prometheus/remote_write.pb.cc)
target_include_directories(chaperon PRIVATE ${CHAPERON_PROMETHEUS_GEN})
target_link_libraries(chaperon PRIVATE protobuf::libprotobuf-lite Snappy::snappy)

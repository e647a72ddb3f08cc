# The cluster (src/cluster): master and workers over gRPC, with the messages and service of
# src/cluster/cluster.proto compiled by protoc and grpc_cpp_plugin (Debian: protobuf-compiler,
# protobuf-compiler-grpc, libgrpc++-dev). A library of its own, so that a program running load
# tests from code does not link gRPC; the command line (chaperon::main) links it.
find_package(gRPC REQUIRED CONFIG)
find_program(CHAPERON_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

set(CHAPERON_CLUSTER_PROTO ${PROJECT_SOURCE_DIR}/src/cluster/cluster.proto)
set(CHAPERON_CLUSTER_GEN ${PROJECT_BINARY_DIR}/generated)
file(MAKE_DIRECTORY ${CHAPERON_CLUSTER_GEN}/cluster)
set(CHAPERON_CLUSTER_GENERATED
  ${CHAPERON_CLUSTER_GEN}/cluster/cluster.pb.cc ${CHAPERON_CLUSTER_GEN}/cluster/cluster.pb.h
  ${CHAPERON_CLUSTER_GEN}/cluster/cluster.grpc.pb.cc ${CHAPERON_CLUSTER_GEN}/cluster/cluster.grpc.pb.h)
add_custom_command(
  OUTPUT ${CHAPERON_CLUSTER_GENERATED}
  COMMAND protobuf::protoc
          --proto_path=${PROJECT_SOURCE_DIR}/src
          --cpp_out=${CHAPERON_CLUSTER_GEN}
          --grpc_out=${CHAPERON_CLUSTER_GEN}
          --plugin=protoc-gen-grpc=${CHAPERON_GRPC_CPP_PLUGIN}
          ${CHAPERON_CLUSTER_PROTO}
  DEPENDS ${CHAPERON_CLUSTER_PROTO} protobuf::protoc
  COMMENT "Generating the cluster's gRPC service and messages"
  VERBATIM)

file(GLOB CHAPERON_CLUSTER_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/cluster/*.cpp)
set_source_files_properties(${CHAPERON_CLUSTER_GEN}/cluster/cluster.pb.cc
  ${CHAPERON_CLUSTER_GEN}/cluster/cluster.grpc.pb.cc PROPERTIES COMPILE_OPTIONS "-w")
add_library(chaperon_cluster ${CHAPERON_CLUSTER_SOURCES}
  ${CHAPERON_CLUSTER_GEN}/cluster/cluster.pb.cc ${CHAPERON_CLUSTER_GEN}/cluster/cluster.grpc.pb.cc)
add_library(chaperon::cluster ALIAS chaperon_cluster)
set_target_properties(chaperon_cluster PROPERTIES EXPORT_NAME cluster)
target_include_directories(chaperon_cluster
  PRIVATE ${PROJECT_SOURCE_DIR}/src ${CHAPERON_CLUSTER_GEN})
target_compile_options(chaperon_cluster PRIVATE ${CHAPERON_WARNINGS})
target_compile_definitions(chaperon_cluster PRIVATE CHAPERON_VERSION="${PROJECT_VERSION}")
target_link_libraries(chaperon_cluster PUBLIC chaperon
  PRIVATE gRPC::grpc++ protobuf::libprotobuf OpenSSL::Crypto)

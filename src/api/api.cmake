# The master's HTTP control API (src/api): routes, auth and the option parser, served with
# Boost.Beast on threads of its own. A library apart from the cluster's, so that only a program
# serving the API compiles and links Beast's server side.
file(GLOB CHAPERON_API_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/api/*.cpp)
add_library(chaperon_api ${CHAPERON_API_SOURCES})
add_library(chaperon::api ALIAS chaperon_api)
set_target_properties(chaperon_api PROPERTIES EXPORT_NAME api)
target_include_directories(chaperon_api PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_compile_options(chaperon_api PRIVATE ${CHAPERON_WARNINGS})
# Asio itself is compiled once, in the core library (src/net/asio_impl.cpp).
target_compile_definitions(chaperon_api PRIVATE BOOST_ASIO_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED CHAPERON_VERSION="${PROJECT_VERSION}")
target_link_libraries(chaperon_api PUBLIC chaperon_cluster chaperon
  PRIVATE $<BUILD_INTERFACE:Boost::headers>)

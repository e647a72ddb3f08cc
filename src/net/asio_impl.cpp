// The one translation unit that compiles Asio and Asio's TLS support
// (BOOST_ASIO_SEPARATE_COMPILATION keeps every other file from compiling them again).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>

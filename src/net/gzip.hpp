#pragma once
#include <string>
#include <string_view>

namespace chaperon::net {
// gzip-compresses data (RFC 1952 framing), for request bodies sent with Content-Encoding: gzip.
std::string gzip_compress(std::string_view data);
}  // namespace chaperon::net

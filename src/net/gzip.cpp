#include "net/gzip.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <zlib.h>

namespace chaperon::net {

std::string gzip_compress(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16 selects the gzip wrapper instead of zlib's.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip: deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32, '\0');
  // zlib counts in uInt (32 bits): bodies of 4 GiB and more go in several steps, or the size
  // would be truncated and only part of the body compressed.
  constexpr std::size_t max_step = std::numeric_limits<uInt>::max();
  std::size_t in_left = data.size();
  std::size_t out_left = out.size();
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (zs.avail_in == 0) {
      zs.avail_in = static_cast<uInt>(std::min(in_left, max_step));
      in_left -= zs.avail_in;
    }
    if (zs.avail_out == 0) {
      zs.avail_out = static_cast<uInt>(std::min(out_left, max_step));
      out_left -= zs.avail_out;
    }
    rc = deflate(&zs, in_left == 0 ? Z_FINISH : Z_NO_FLUSH);
  }
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip: deflate did not finish");
  out.resize(static_cast<std::size_t>(zs.total_out));
  return out;
}

}  // namespace chaperon::net

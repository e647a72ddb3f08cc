// Fuzzes gzip compression of request bodies: whatever the input, the output must be one gzip
// member (RFC 1952) that zlib inflates back to exactly the input. The project only compresses
// (Content-Encoding of request bodies); it does not decode compressed responses.

#include "net/gzip.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <zlib.h>

namespace {

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

std::string inflate_gzip(std::string_view in) {
  z_stream zs{};
  check(inflateInit2(&zs, 15 + 16) == Z_OK, "inflateInit2");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  int rc = Z_OK;
  char buf[4096];
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  check(rc == Z_STREAM_END, "the gzip stream is complete");
  check(zs.avail_in == 0, "nothing follows the gzip member");
  inflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string packed = chaperon::net::gzip_compress(input);
  check(packed.size() >= 18, "a gzip member has a header and a trailer");
  check(static_cast<unsigned char>(packed[0]) == 0x1f && static_cast<unsigned char>(packed[1]) == 0x8b,
        "gzip magic bytes");
  check(inflate_gzip(packed) == input, "inflate(gzip_compress(x)) == x");
  return 0;
}

#include "cluster/token.hpp"

#include <array>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace chaperon::cluster {

namespace {

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

}  // namespace

bool token_matches(std::string_view given, std::string_view expected) {
  const auto a = sha256(given);
  const auto b = sha256(expected);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace chaperon::cluster

#include "net/ws_handshake.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

using chaperon::net::ws_accept_for;
using chaperon::net::ws_check_upgrade_response;
using chaperon::net::ws_make_key;
using headers = std::vector<std::pair<std::string, std::string>>;

constexpr const char* rfc_key = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr const char* rfc_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

TEST(ws_handshake, rfc_accept_key_example) {
  EXPECT_EQ(ws_accept_for(rfc_key), rfc_accept);
}

TEST(ws_handshake, make_key_encodes_16_bytes_big_endian) {
  // "the sample nonce" is the RFC's key before base64.
  const std::uint64_t a = 0x7468652073616d70ULL;  // "the samp"
  const std::uint64_t b = 0x6c65206e6f6e6365ULL;  // "le nonce"
  EXPECT_EQ(ws_make_key(a, b), rfc_key);
  const std::string k = ws_make_key(1, 2);
  EXPECT_EQ(k.size(), 24u);
  EXPECT_EQ(k.substr(22), "==");
  EXPECT_NE(k, ws_make_key(2, 1));
}

headers good_response() {
  return {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", rfc_accept}};
}

TEST(ws_handshake, accepts_a_proper_response) {
  EXPECT_EQ(ws_check_upgrade_response(101, good_response(), rfc_key), "");
  const headers varied = {{"upgrade", "WebSocket"},
                          {"CONNECTION", "keep-alive, Upgrade"},
                          {"Server", "x"},
                          {"sec-websocket-accept", std::string(" ") + rfc_accept + " "},
                          {"Sec-WebSocket-Extensions", ""}};
  EXPECT_EQ(ws_check_upgrade_response(101, varied, rfc_key), "");
}

TEST(ws_handshake, rejects_bad_responses) {
  EXPECT_EQ(ws_check_upgrade_response(403, good_response(), rfc_key), "status 403");
  EXPECT_EQ(ws_check_upgrade_response(200, good_response(), rfc_key), "status 200");

  auto h = good_response();
  h.erase(h.begin());
  EXPECT_EQ(ws_check_upgrade_response(101, h, rfc_key), "missing upgrade header");

  h = good_response();
  h[0].second = "h2c";
  EXPECT_EQ(ws_check_upgrade_response(101, h, rfc_key), "bad upgrade header");

  h = good_response();
  h.erase(h.begin() + 1);
  EXPECT_EQ(ws_check_upgrade_response(101, h, rfc_key), "missing connection header");

  h = good_response();
  h[1].second = "keep-alive";
  EXPECT_EQ(ws_check_upgrade_response(101, h, rfc_key), "bad connection header");

  h = good_response();
  h[1].second = "upgraded";
  EXPECT_EQ(ws_check_upgrade_response(101, h, rfc_key), "bad connection header");

  h = good_response();
  h.pop_back();
  EXPECT_EQ(ws_check_upgrade_response(101, h, rfc_key), "missing accept key");

  EXPECT_EQ(ws_check_upgrade_response(101, good_response(), ws_make_key(1, 2)), "bad accept key");

  h = good_response();
  h.back().second = "S3PPLMBITXAQ9KYGZZHZRBK+XOO=";  // base64 is case-sensitive
  EXPECT_EQ(ws_check_upgrade_response(101, h, rfc_key), "bad accept key");

  h = good_response();
  h.emplace_back("Sec-WebSocket-Extensions", "permessage-deflate");
  EXPECT_EQ(ws_check_upgrade_response(101, h, rfc_key), "unsupported extension");
}

}  // namespace

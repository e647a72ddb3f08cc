// Clients the API must survive: slow, idle, many, oversized or speaking garbage. After each, the
// server still answers a normal request. Also the refusals at start.
#include <sys/resource.h>

#include <chaperon/error.hpp>

#include <chrono>
#include <memory>
#include <vector>

#include "api/api_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using chaperon::apitest::Api;
using chaperon::apitest::bearer;
using chaperon::apitest::connection;
using chaperon::apitest::request;
using chaperon::apitest::request_text;
using nlohmann::json;

bool still_serves(std::uint16_t port) {
  return request(port, "GET", "/load_tests", bearer).status == 200;
}

TEST_F(Api, a_slowloris_client_is_cut_after_the_timeout) {
  chaperon::api::api_options o;
  o.limits.timeout = 500ms;
  start(o);
  connection slow(port());
  const auto begin = std::chrono::steady_clock::now();
  // A request head that never ends: one more header line every 100 ms keeps the connection
  // busy, yet the whole request must arrive within the timeout.
  ASSERT_TRUE(slow.send("GET /load_tests HTTP/1.1\r\nHost: x\r\n"));
  bool cut = false;
  for (int i = 0; i < 50 && !cut; ++i) {
    if (!slow.send("X-Slow: 1\r\n")) break;
    cut = slow.closed_within(100ms);
  }
  const auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_TRUE(cut);
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 3s);
  EXPECT_TRUE(still_serves(port()));
}

TEST_F(Api, an_idle_connection_is_closed_after_the_timeout) {
  chaperon::api::api_options o;
  o.limits.timeout = 300ms;
  start(o);
  connection idle(port());
  EXPECT_TRUE(idle.closed_within(5s));
  // Also after a response on a keep-alive connection.
  connection kept(port());
  ASSERT_TRUE(kept.send(request_text("GET", "/healthcheck")));
  EXPECT_EQ(kept.read().status, 200);
  EXPECT_TRUE(kept.closed_within(5s));
}

TEST_F(Api, a_thousand_idle_connections_do_not_stop_a_request) {
  // Both ends of every connection live in this process.
  rlimit files{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &files), 0);
  if (files.rlim_cur < 2500 && files.rlim_max >= 2500) {
    files.rlim_cur = 2500;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &files), 0);
  }
  if (files.rlim_cur < 2500) GTEST_SKIP() << "needs 2500 file descriptors, has " << files.rlim_cur;
  chaperon::api::api_options o;
  o.limits.timeout = 30s;
  o.limits.max_connections = 1100;
  start(o);
  std::vector<std::unique_ptr<connection>> idle;
  for (int i = 0; i < 1000; ++i) idle.push_back(std::make_unique<connection>(port()));
  const auto begin = std::chrono::steady_clock::now();
  const auto r = request(port(), "GET", "/load_tests", bearer);
  EXPECT_EQ(r.status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 2s);
  // The request's own connection may not have been seen closing yet.
  EXPECT_GE(api_->connections(), 1000u);
  EXPECT_LE(api_->connections(), 1001u);
}

TEST_F(Api, connections_beyond_the_cap_are_closed_at_once) {
  chaperon::api::api_options o;
  o.limits.max_connections = 4;
  o.limits.timeout = 30s;
  start(o);
  std::vector<std::unique_ptr<connection>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<connection>(port()));
  // The held ones are accepted first (in order), so the fifth is over the cap.
  connection extra(port());
  EXPECT_TRUE(extra.closed_within(5s));
  held.clear();
  // Closed connections free their places (bounded retries: the server sees the closes
  // asynchronously).
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) served = still_serves(port());
  EXPECT_TRUE(served);
}

TEST_F(Api, garbage_bytes_get_400_and_the_server_lives_on) {
  start();
  const std::vector<std::string> garbage = {
      std::string("\x00\x01\x02\xff\xfe", 5) + "\r\n\r\n",
      "HELLO\r\n\r\n",
      "GET\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
      "POST /load_tests HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "GET / HTTP/1.1\r\nBad Header\r\n\r\n"};
  for (const auto& bytes : garbage) {
    connection c(port());
    ASSERT_TRUE(c.send(bytes));
    const auto r = c.read();
    EXPECT_EQ(r.status, 400) << json(bytes).dump(-1, ' ', false, json::error_handler_t::replace);
    EXPECT_TRUE(c.closed_within(5s));
  }
  EXPECT_TRUE(still_serves(port()));
}

TEST_F(Api, oversized_bodies_and_heads_are_refused) {
  start();
  // Refused from the Content-Length alone, before the body is sent.
  connection big(port());
  ASSERT_TRUE(big.send("POST /load_tests HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
                       "Content-Length: 1048577\r\n\r\n"));
  EXPECT_EQ(big.read().status, 413);
  // Chunked, so the size shows only while it arrives.
  connection chunked(port());
  ASSERT_TRUE(chunked.send("POST /load_tests HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                           "Authorization: Bearer s3cret\r\n\r\n"));
  const std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 17; ++i)
    if (!chunked.send("10000\r\n" + chunk + "\r\n")) break;
  EXPECT_EQ(chunked.read().status, 413);
  const auto head = request(port(), "GET", "/load_tests", "Bearer " + std::string(20000, 'a'));
  EXPECT_EQ(head.status, 431);
  // Exactly the limit is fine (and is then just bad JSON).
  const auto at_limit = request(port(), "POST", "/load_tests", bearer, std::string(1 << 20, ' '));
  EXPECT_EQ(at_limit.status, 400);
  EXPECT_EQ(json::parse(at_limit.body).at("error"), "invalid_json");
  EXPECT_TRUE(still_serves(port()));
}

TEST_F(Api, expect_100_continue_and_keep_alive) {
  start();
  connection c(port());
  const std::string body = schedule_body("No.Such");
  ASSERT_TRUE(c.send("POST /load_tests HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
                     "Expect: 100-continue\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n"));
  ASSERT_TRUE(c.send(body));
  const auto r = c.read();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body).at("error"), "unknown_load_test");
  // The same connection serves the next request.
  ASSERT_TRUE(c.send(request_text("GET", "/version", bearer)));
  EXPECT_EQ(c.read().status, 200);
}

TEST(ApiStart, refuses_an_open_address_without_a_token) {
  chaperon::cluster::master m({});
  chaperon::api::api_options o;
  o.listen = "0.0.0.0:0";
  try {
    chaperon::api::api_server api(m, o);
    FAIL() << "started without a token on 0.0.0.0";
  } catch (const chaperon::error& e) {
    EXPECT_NE(std::string(e.what()).find("without a token"), std::string::npos) << e.what();
  }
  o.insecure = true;
  chaperon::api::api_server insecure(m, o);
  EXPECT_GT(insecure.port(), 0);
  o.insecure = false;
  o.token = "t";
  chaperon::api::api_server with_token(m, o);
  EXPECT_GT(with_token.port(), 0);
}

TEST(ApiStart, bad_listen_addresses_are_named) {
  chaperon::cluster::master m({});
  for (const std::string listen : {"127.0.0.1", "localhost:80", "127.0.0.1:70000", "1.2.3:x", ":5"}) {
    chaperon::api::api_options o;
    o.listen = listen;
    o.token = "t";
    try {
      chaperon::api::api_server api(m, o);
      ADD_FAILURE() << listen << " was accepted";
    } catch (const chaperon::error& e) {
      EXPECT_NE(std::string(e.what()).find(listen), std::string::npos) << e.what();
    }
  }
}

}  // namespace

#pragma once
// A master in this process (no workers: it takes every test's share itself) with its HTTP API on
// 127.0.0.1, and the demo target as the load tests' server.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "api/api_client.hpp"
#include "api/api_server.hpp"
#include "cluster/master.hpp"
#include "integration/process_fixture.hpp"

namespace chaperon::apitest {

inline constexpr const char* token = "s3cret";
inline constexpr const char* bearer = "Bearer s3cret";
// base64("chaperon:s3cret")
inline constexpr const char* basic = "Basic Y2hhcGVyb246czNjcmV0";

class Api : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { demo_ = std::make_unique<itest::demo_server>(); }
  static void TearDownTestSuite() { demo_.reset(); }

  // Starts the master and its API (call once per test, before any request).
  void start(api::api_options options = {}) {
    cluster::master_options m;
    m.token = "cluster-token";
    m.heartbeat = std::chrono::milliseconds(200);
    m.lost_after = std::chrono::milliseconds(1000);
    m.start_delay = std::chrono::milliseconds(50);
    master_ = std::make_unique<cluster::master>(m);
    if (options.token.empty() && !options.insecure) options.token = token;
    api_ = std::make_unique<api::api_server>(*master_, std::move(options));
  }
  std::uint16_t port() const { return static_cast<std::uint16_t>(api_->port()); }
  reply call(std::string_view method, std::string_view target, std::string_view body = {}) const {
    return request(port(), method, target, bearer, body);
  }
  // A POST /load_tests body scheduling `test` with the demo target as base_url.
  static std::string schedule_body(const std::string& test) {
    nlohmann::json item{{"test", test},
                        {"options", {{"config", {{"base_url", demo_->url()}}}, {"threads", 1}}}};
    return nlohmann::json{{"load_tests", {item}}}.dump();
  }

  static inline std::unique_ptr<itest::demo_server> demo_;
  std::unique_ptr<cluster::master> master_;
  std::unique_ptr<api::api_server> api_;  // after master_: stopped first
};

}  // namespace chaperon::apitest

// The lookup thread (net/name_lookup.hpp): real getaddrinfo answers for localhost (from
// /etc/hosts) and a name under .invalid, delivered on the lookup thread with the port filled in.
#include "net/name_lookup.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using chaperon::net::lookup_async;
using chaperon::net::lookup_result;

// Looks host:port up and waits (bounded) for the answer; nullopt when none came in time.
std::optional<lookup_result> lookup_and_wait(const std::string& host, std::uint16_t port,
                                             std::thread::id* answered_on = nullptr) {
  std::mutex mutex;
  std::condition_variable done;
  std::optional<lookup_result> result;
  std::thread::id thread;
  lookup_async(host, port, [&](lookup_result r) {
    std::lock_guard lock(mutex);
    result = std::move(r);
    thread = std::this_thread::get_id();
    done.notify_one();
  });
  std::unique_lock lock(mutex);
  done.wait_for(lock, 10s, [&] { return result.has_value(); });
  if (answered_on) *answered_on = thread;
  return result;
}

TEST(NameLookup, LocalhostResolvesToLoopbackWithThePort) {
  std::thread::id answered_on;
  auto r = lookup_and_wait("localhost", 8443, &answered_on);
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(r->error) << r->error.message();
  ASSERT_FALSE(r->addresses.empty());
  EXPECT_NE(answered_on, std::this_thread::get_id());
  for (const auto& a : r->addresses) {
    if (a.ss_family == AF_INET) {
      const auto& v4 = reinterpret_cast<const sockaddr_in&>(a);
      EXPECT_EQ(ntohs(v4.sin_port), 8443);
      EXPECT_EQ(ntohl(v4.sin_addr.s_addr) >> 24, 127u);
    } else {
      ASSERT_EQ(a.ss_family, AF_INET6);
      EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port), 8443);
    }
  }
}

TEST(NameLookup, AnInvalidNameFailsWithGetaddrinfosMessage) {
  auto r = lookup_and_wait("no-such-host.invalid", 80);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->error);
  EXPECT_TRUE(r->addresses.empty());
  EXPECT_STREQ(r->error.category().name(), "getaddrinfo");
  EXPECT_FALSE(r->error.message().empty());
}

TEST(NameLookup, TheObserverSeesEveryHostName) {
  std::mutex mutex;
  std::vector<std::string> hosts;
  chaperon::net::set_lookup_observer([&](const std::string& host) {
    std::lock_guard lock(mutex);
    hosts.push_back(host);
  });
  auto r = lookup_and_wait("localhost", 80);
  chaperon::net::set_lookup_observer({});
  ASSERT_TRUE(r.has_value());
  std::lock_guard lock(mutex);
  EXPECT_EQ(hosts, std::vector<std::string>{"localhost"});
}

}  // namespace

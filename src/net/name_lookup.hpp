#pragma once
// Host name lookups for every shard of the process, on one thread of their own: getaddrinfo
// blocks, and an event loop that called it would stall every session of its shard for as long as
// the lookup takes. io_services caches the answers per shard and shares one lookup between the
// connections that wait for the same name. No Asio here: the tests include this header.

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

namespace chaperon::net {

struct lookup_result {
  std::error_code error;                     // set when the name did not resolve
  std::vector<sockaddr_storage> addresses;   // AF_INET / AF_INET6, with the port filled in
};

// Looks up host:port on the lookup thread (started on first use) and calls `done` there with the
// result. `done` must be quick and thread-safe: it hands the result to an event loop.
void lookup_async(std::string host, std::uint16_t port, std::function<void(lookup_result)> done);

// Called on the lookup thread before each lookup with the host name: the tests make a lookup
// slow with it, or count the lookups. An empty function removes it.
void set_lookup_observer(std::function<void(const std::string& host)> observer);

}  // namespace chaperon::net

#pragma once
// What both ends of the cluster stream share: the generated service and messages, and the clock
// values they carry.

#include <chrono>
#include <cstdint>

#include "cluster/cluster.grpc.pb.h"

namespace chaperon::cluster {

namespace v1 = chaperon::cluster::v1;

// Instants on the wire are microseconds since the Unix epoch: nodes share wall-clock time (NTP),
// not a monotonic clock.
inline std::int64_t unix_us(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace chaperon::cluster

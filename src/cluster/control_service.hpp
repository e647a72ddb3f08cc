#pragma once
// The master's Control service: the queue of load tests for clients (cluster.proto).

#include <memory>

#include "cluster/wire.hpp"

namespace chaperon::cluster {

class master;

std::unique_ptr<v1::Control::CallbackService> make_control_service(master& m);

}  // namespace chaperon::cluster

#pragma once
// Custom actions: users implement this for their own protocols and run them with
// `co_await s.run_action(my_action)`. The engine measures the action under metric_name(), records
// a failed result as "Error <error> <metric_name()>", and skips it when the session is stopped.

#include <string>

#include "chaperon/session.hpp"
#include "chaperon/task.hpp"

namespace chaperon {

struct action_result {
  bool ok = true;
  std::string error;  // short failure kind for the error metric, e.g. "timeout"
  json value;         // whatever the action produced
};

class action {
 public:
  virtual ~action() = default;
  // Performs the action in the session.
  virtual task<action_result> run(session& s) = 0;
  // Called when the session is stopped while the action runs; release what it waits on.
  virtual void abort(session&) {}
  // The metric the duration is recorded under, e.g. "redis_get(key)".
  virtual std::string metric_name() const = 0;
};

}  // namespace chaperon

#pragma once
// How the API turns a scheduled load test's name and options JSON into what the master's queue
// runs. The parser is an interface so that a program embedding the master can accept options of
// its own; the default one takes the command line's run option names.

#include <functional>
#include <string>
#include <vector>

#include "chaperon/config.hpp"
#include "chaperon/error.hpp"
#include "cluster/run_spec.hpp"

namespace chaperon::api {

// A load test the API refuses to schedule. code() is the stable word of the error body
// ("unknown_load_test", "invalid_option"); what() names the test or the option.
class invalid_load_test : public error {
 public:
  invalid_load_test(std::string code, const std::string& message)
      : error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

class option_parser {
 public:
  virtual ~option_parser() = default;
  // `field` is where the options sit in the request ("load_tests[0].options"), for messages.
  // Throws invalid_load_test for an unknown test or an option it cannot take.
  virtual cluster::run_spec parse(const std::string& test, const json& options,
                                  const std::string& field) const = 0;
};

// Takes a registered load test's name and the run options a run_spec carries, under the
// command line's names:
//   config       object   run-time config merged over the load test's (e.g. base_url)
//   threads      integer  engine threads per node (0: one per core)
//   per_session  bool
//   metrics      string "a,b" or array of strings: the metric types to record
//   thresholds   string "[metric:]expr[,...]" or array of such strings
//   interval     string   a duration ("1s")
//   rate, duration, stages   strings, max_active integer: a load model replacing the test's
//                as `chaperon run --rate/--duration/--stages/--max-active` (the cluster's total)
//   sessions     integer  the session count of a test with one at-once entry
//   scale        number   multiplies every at-once entry's session count
//   tag          string   names the test's result files; shown in its status and report
//   format       string   the format the master writes this test's results in (its --format
//                otherwise); the router checks the name against the exporters it has
// Anything else is refused, naming the option.
class default_option_parser : public option_parser {
 public:
  // `known` lists the load tests that may be scheduled; by default the registered ones.
  explicit default_option_parser(std::function<std::vector<std::string>()> known = {});
  cluster::run_spec parse(const std::string& test, const json& options,
                          const std::string& field) const override;

 private:
  std::function<std::vector<std::string>()> known_;
};

}  // namespace chaperon::api

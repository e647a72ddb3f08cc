#include "cluster/control.hpp"

#include <grpcpp/grpcpp.h>

#include "chaperon/error.hpp"
#include "cluster/tls.hpp"
#include "cluster/wire.hpp"

namespace chaperon::cluster {

namespace {

// One call to the master: a fresh context with the timeout as deadline; a failed status becomes
// an error naming the master.
template <class Call>
void call(const control_client_options& o, Call&& rpc) {
  auto channel = grpc::CreateChannel(o.master, channel_credentials(o.tls_ca, o.tls_cert, o.tls_key));
  auto stub = v1::Control::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + o.timeout);
  const grpc::Status status = rpc(*stub, ctx);
  if (status.ok()) return;
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    throw error("cannot reach the master at " + o.master + ": " + status.error_message());
  }
  throw error("the master at " + o.master + " refused: " + status.error_message());
}

test_status status_of(const v1::TestStatus& t) {
  test_status s;
  s.id = t.id();
  s.load_test = t.load_test();
  s.error = t.error();
  for (auto state : {test_state::scheduled, test_state::running, test_state::finished,
                     test_state::failed, test_state::cancelled}) {
    if (to_string(state) == t.state()) s.state = state;
  }
  return s;
}

}  // namespace

std::string schedule_test(const control_client_options& o, const run_spec& spec) {
  v1::ScheduleRequest req;
  req.set_token(o.token);
  req.set_spec_json(spec.to_json().dump());
  v1::ScheduleReply reply;
  call(o, [&](v1::Control::Stub& stub, grpc::ClientContext& ctx) {
    return stub.Schedule(&ctx, req, &reply);
  });
  return reply.id();
}

std::size_t cancel_tests(const control_client_options& o, cancel_scope scope, const std::string& id) {
  v1::CancelRequest req;
  req.set_token(o.token);
  switch (scope) {
    case cancel_scope::one: req.set_id(id); break;
    case cancel_scope::all: req.set_all(true); break;
    case cancel_scope::scheduled: req.set_scheduled(true); break;
  }
  v1::CancelReply reply;
  call(o, [&](v1::Control::Stub& stub, grpc::ClientContext& ctx) {
    return stub.Cancel(&ctx, req, &reply);
  });
  return reply.cancelled();
}

queue_status query_status(const control_client_options& o) {
  v1::StatusRequest req;
  req.set_token(o.token);
  v1::StatusReply reply;
  call(o, [&](v1::Control::Stub& stub, grpc::ClientContext& ctx) {
    return stub.Status(&ctx, req, &reply);
  });
  queue_status out;
  for (const auto& t : reply.running()) out.running.push_back(status_of(t));
  for (const auto& t : reply.scheduled()) out.scheduled.push_back(status_of(t));
  for (const auto& w : reply.workers()) {
    out.workers.push_back(node_info{w.id(), w.name(), w.version(), w.capacity(), w.threads(), {},
                                    w.version_differs()});
  }
  return out;
}

}  // namespace chaperon::cluster

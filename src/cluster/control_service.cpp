#include "cluster/control_service.hpp"

#include <exception>

#include <grpcpp/grpcpp.h>

#include "cluster/master.hpp"

namespace chaperon::cluster {

namespace {

void fill(v1::TestStatus& out, const test_status& s) {
  out.set_id(s.id);
  out.set_load_test(s.load_test);
  out.set_state(std::string(to_string(s.state)));
  out.set_error(s.error);
}

class control_service final : public v1::Control::CallbackService {
 public:
  explicit control_service(master& m) : master_(m) {}

  grpc::ServerUnaryReactor* Schedule(grpc::CallbackServerContext* ctx, const v1::ScheduleRequest* req,
                                     v1::ScheduleReply* reply) override {
    return answer(ctx, req->token(), [&] {
      const auto parsed = json::parse(req->spec_json(), nullptr, false);
      if (parsed.is_discarded()) throw error("the run spec is not JSON");
      reply->set_id(master_.queue().schedule(run_spec::from_json(parsed)));
    });
  }

  grpc::ServerUnaryReactor* Cancel(grpc::CallbackServerContext* ctx, const v1::CancelRequest* req,
                                   v1::CancelReply* reply) override {
    return answer(ctx, req->token(), [&] {
      auto& q = master_.queue();
      std::size_t n = 0;
      if (req->has_id()) {
        if (!q.cancel(req->id())) throw error("no running or scheduled test has the id " + req->id());
        n = 1;
      } else if (req->has_all() && req->all()) {
        n = q.cancel_all();
      } else if (req->has_scheduled() && req->scheduled()) {
        n = q.clear_scheduled();
      } else {
        throw error("say which tests to cancel: an id, all, or scheduled");
      }
      reply->set_cancelled(static_cast<std::uint32_t>(n));
    });
  }

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx, const v1::StatusRequest* req,
                                   v1::StatusReply* reply) override {
    return answer(ctx, req->token(), [&] {
      for (const auto& s : master_.queue().running()) fill(*reply->add_running(), s);
      for (const auto& s : master_.queue().scheduled()) fill(*reply->add_scheduled(), s);
      for (const auto& n : master_.nodes()) {
        auto* w = reply->add_workers();
        w->set_id(n.id);
        w->set_name(n.name);
        w->set_version(n.version);
        w->set_capacity(n.capacity);
        w->set_threads(n.threads);
        w->set_version_differs(n.version_differs);
      }
    });
  }

 private:
  // Checks the token, runs `body`, and answers: a chaperon::error becomes INVALID_ARGUMENT with
  // its message (a client error: unknown id, malformed spec).
  template <class Body>
  grpc::ServerUnaryReactor* answer(grpc::CallbackServerContext* ctx, const std::string& token,
                                   Body body) {
    auto* reactor = ctx->DefaultReactor();
    if (!master_.accepts(token)) {
      reactor->Finish({grpc::StatusCode::UNAUTHENTICATED, "wrong cluster token"});
      return reactor;
    }
    try {
      body();
      reactor->Finish(grpc::Status::OK);
    } catch (const error& e) {
      reactor->Finish({grpc::StatusCode::INVALID_ARGUMENT, e.what()});
    }
    return reactor;
  }

  master& master_;
};

}  // namespace

std::unique_ptr<v1::Control::CallbackService> make_control_service(master& m) {
  return std::make_unique<control_service>(m);
}

}  // namespace chaperon::cluster

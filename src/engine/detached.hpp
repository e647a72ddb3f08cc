#pragma once
// A coroutine that nobody awaits: the shard's io_context drives it to completion.

#include <coroutine>
#include <exception>

namespace chaperon::detail {

struct detached {
  struct promise_type {
    detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept { std::terminate(); }
  };
};

}  // namespace chaperon::detail

#pragma once
// Copy-on-write for the options classes (http_options, ws_options): an options object is one
// pointer to its fields, shared by its copies and copied on the first change. Copying options
// (a request per loop iteration with the same options) then allocates nothing, and the pointer
// keeps a scenario's coroutine frames small.
//
// F holds a `shared_count refs` member. The count is atomic because options built once may be
// copied from several engine threads.

#include <atomic>
#include <cstdint>

namespace chaperon::detail {

class shared_count {
 public:
  shared_count() noexcept = default;
  // A copy of the fields is a new, unshared object.
  shared_count(const shared_count&) noexcept {}
  shared_count& operator=(const shared_count&) noexcept { return *this; }

  void add() noexcept { n_.fetch_add(1, std::memory_order_relaxed); }
  // True when this was the last reference.
  bool drop() noexcept { return n_.fetch_sub(1, std::memory_order_acq_rel) == 1; }
  bool unique() const noexcept { return n_.load(std::memory_order_acquire) == 1; }

 private:
  std::atomic<std::uint32_t> n_{1};
};

template <class F>
F* share(F* f) noexcept {
  if (f) f->refs.add();
  return f;
}

template <class F>
void release(F*& f) noexcept {
  if (f && f->refs.drop()) delete f;
  f = nullptr;
}

// Assigns `from` to `to`, sharing it.
template <class F>
void assign_shared(F*& to, F* from) noexcept {
  if (to == from) return;
  share(from);
  release(to);
  to = from;
}

// Moves `from` into `to`, leaving `from` empty.
template <class F>
void move_shared(F*& to, F*& from) noexcept {
  if (to == from) return;
  release(to);
  to = from;
  from = nullptr;
}

// The fields for writing: created when there are none, copied when they are shared.
template <class F>
F& unshare(F*& f) {
  if (!f) {
    f = new F();
  } else if (!f->refs.unique()) {
    F* copy = new F(*f);
    release(f);
    f = copy;
  }
  return *f;
}

}  // namespace chaperon::detail

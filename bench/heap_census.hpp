#pragma once
// A census of the heap for the memory benchmark drivers: which block sizes are live, how many of
// each, and where a given size is allocated. Off unless the environment asks for it, so that the
// drivers' peak RSS stays the plain allocator's:
//   CHAPERON_HEAP_CENSUS=S[,S]  at S seconds, print the live blocks per usable size to stderr
//   CHAPERON_HEAP_TRACE=B[:K]  print the call stack of the first K (default 3) allocations of
//                              usable size B (resolve with addr2line -e <driver> -f -C)
//   CHAPERON_HEAP_SITES=1      with the census: also the live blocks per allocating call stack
//                              (a 16-byte header per block records it; peak RSS is then not
//                              the plain allocator's)
// Counted by malloc_usable_size, the bytes the allocator really gives, so that the census sums
// to what the sessions cost. Include from exactly one translation unit (it replaces operator new).
#include <dlfcn.h>
#include <execinfo.h>
#include <malloc.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

namespace heap_census {

constexpr std::size_t max_tracked = 1 << 16;  // larger blocks share the last slot

struct state {
  bool on = false;
  std::size_t trace_size = 0;
  std::atomic<int> traces_left{0};
  bool sites = false;
  std::atomic<long> bytes{0};  // live, by usable size
  std::atomic<long> peak{0};
  std::array<std::atomic<long>, max_tracked + 1> live{};
};

// Call stacks that allocate, by a hash of their return addresses (open addressing, never freed).
constexpr std::size_t site_slots = 1 << 15;
constexpr int site_depth = 10;
struct site {
  std::atomic<std::uint64_t> hash{0};
  void* frames[site_depth];
  int depth = 0;
  std::uint32_t usable = 0;
  std::atomic<long> live{0};
};
inline site* site_table() {
  static site* table = static_cast<site*>(std::calloc(site_slots, sizeof(site)));
  return table;
}
constexpr std::size_t header = 16;

inline state& the() {
  // getenv does not allocate, so this is safe inside the first operator new.
  static state s;
  static const bool read = [] {
    s.on = std::getenv("CHAPERON_HEAP_CENSUS") != nullptr;
    if (const char* t = std::getenv("CHAPERON_HEAP_TRACE")) {
      char* end = nullptr;
      s.trace_size = std::strtoul(t, &end, 10);
      s.traces_left = *end == ':' ? std::atoi(end + 1) : 3;
      s.on = true;
    }
    s.sites = s.on && std::getenv("CHAPERON_HEAP_SITES") != nullptr;
    return true;
  }();
  (void)read;
  return s;
}

inline thread_local bool in_trace = false;

inline void trace(std::size_t usable) {
  auto& s = the();
  if (usable != s.trace_size || in_trace || s.traces_left.fetch_sub(1) <= 0) return;
  in_trace = true;
  void* frames[24];
  int n = backtrace(frames, 24);
  std::fprintf(stderr, "-- allocation of usable size %zu:\n", usable);
  backtrace_symbols_fd(frames, n, 2);
  in_trace = false;
}

inline thread_local bool in_site = false;

// The site of the current allocation, or -1 (reentrant, or the table is full).
inline long site_of(std::size_t usable) {
  if (in_site) return -1;
  in_site = true;
  void* frames[site_depth + 3];
  int n = backtrace(frames, site_depth + 3);
  in_site = false;
  int skip = n > 3 ? 3 : 0;  // backtrace, site_of, allocate
  std::uint64_t h = 1469598103934665603ULL ^ usable;
  for (int i = skip; i < n; ++i) h = (h ^ reinterpret_cast<std::uintptr_t>(frames[i])) * 1099511628211ULL;
  if (h == 0) h = 1;
  auto* table = site_table();
  for (std::size_t probe = 0; probe < site_slots; ++probe) {
    auto& e = table[(h + probe) % site_slots];
    std::uint64_t cur = e.hash.load();
    if (cur == h) return static_cast<long>((h + probe) % site_slots);
    if (cur == 0) {
      std::uint64_t expected = 0;
      if (e.hash.compare_exchange_strong(expected, ~0ULL)) {
        e.depth = n - skip;
        for (int i = skip; i < n; ++i) e.frames[i - skip] = frames[i];
        e.usable = static_cast<std::uint32_t>(usable);
        e.hash.store(h);
        return static_cast<long>((h + probe) % site_slots);
      }
    }
  }
  return -1;
}

inline void count(state& s, std::size_t usable, int sign) {
  s.live[usable < max_tracked ? usable : max_tracked].fetch_add(sign, std::memory_order_relaxed);
  long now = s.bytes.fetch_add(sign * static_cast<long>(usable), std::memory_order_relaxed);
  if (sign > 0) {
    now += static_cast<long>(usable);
    long seen = s.peak.load(std::memory_order_relaxed);
    while (now > seen && !s.peak.compare_exchange_weak(seen, now)) {
    }
  }
}

inline void* allocate(std::size_t n, std::size_t align) {
  auto& s = the();
  if (s.sites && align == 0) {
    auto* raw = static_cast<char*>(std::malloc(n + header));
    if (!raw) throw std::bad_alloc();
    std::size_t u = malloc_usable_size(raw);
    long id = site_of(u);
    *reinterpret_cast<long*>(raw) = id;
    if (id >= 0) site_table()[id].live.fetch_add(1, std::memory_order_relaxed);
    count(s, u, 1);
    return raw + header;
  }
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                              : std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  if (s.on) {
    std::size_t u = malloc_usable_size(p);
    count(s, u, 1);
    if (s.trace_size) trace(u);
  }
  return p;
}

inline void release(void* p, bool aligned = false) {
  if (!p) return;
  auto& s = the();
  if (s.sites && !aligned) {
    auto* raw = static_cast<char*>(p) - header;
    long id = *reinterpret_cast<long*>(raw);
    if (id >= 0) site_table()[id].live.fetch_sub(1, std::memory_order_relaxed);
    std::size_t u = malloc_usable_size(raw);
    count(s, u, -1);
    std::free(raw);
    return;
  }
  if (s.on) {
    std::size_t u = malloc_usable_size(p);
    count(s, u, -1);
  }
  std::free(p);
}

inline void report() {
  long blocks = 0;
  long bytes = 0;
  for (std::size_t u = 0; u <= max_tracked; ++u) {
    long n = the().live[u].load();
    if (n == 0) continue;
    std::fprintf(stderr, "census %zu %ld\n", u, n);
    blocks += n;
    bytes += n * static_cast<long>(u);
  }
  std::fprintf(stderr, "census total %ld blocks %ld bytes, peak %ld bytes\n", blocks, bytes,
               the().peak.load());
  // The allocator's own view: what its arenas hold from the system, and how much of it is free
  // (free lists and holes between live blocks, which stay resident).
  struct mallinfo2 mi = mallinfo2();
  std::fprintf(stderr, "census malloc arenas %zu bytes, in use %zu, free %zu, mmapped %zu\n",
               mi.arena, mi.uordblks, mi.fordblks, mi.hblkhd);
  if (!the().sites) return;
  auto* table = site_table();
  for (std::size_t i = 0; i < site_slots; ++i) {
    long n = table[i].live.load();
    if (n <= 0) continue;
    std::fprintf(stderr, "site %zu %u %ld", i, table[i].usable, n);
    for (int f = 0; f < table[i].depth; ++f) {
      Dl_info info{};
      auto* a = static_cast<char*>(table[i].frames[f]);
      if (dladdr(a, &info) && info.dli_fname) {
        const char* slash = std::strrchr(info.dli_fname, '/');
        std::fprintf(stderr, " %s+%#lx", slash ? slash + 1 : info.dli_fname,
                     static_cast<unsigned long>(a - static_cast<char*>(info.dli_fbase)));
      } else {
        std::fprintf(stderr, " ?%p", table[i].frames[f]);
      }
    }
    std::fprintf(stderr, "\n");
  }
}

// Prints the census (lines "census <usable size> <live blocks>", then "site ..." lines) at each
// of the comma-separated times (seconds after the start) the environment gives.
inline void start_report() {
  const char* when = std::getenv("CHAPERON_HEAP_CENSUS");
  if (!when) return;
  std::thread([when] {
    auto start = std::chrono::steady_clock::now();
    for (const char* p = when; *p;) {
      char* end = nullptr;
      double at = std::strtod(p, &end);
      if (end == p) break;
      std::this_thread::sleep_until(start + std::chrono::milliseconds(static_cast<long>(at * 1000)));
      std::fprintf(stderr, "census at %.3f s\n", at);
      report();
      p = *end == ',' ? end + 1 : end;
    }
  }).detach();
}

}  // namespace heap_census

void* operator new(std::size_t n) { return heap_census::allocate(n, 0); }
void* operator new[](std::size_t n) { return heap_census::allocate(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) {
  return heap_census::allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return heap_census::allocate(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { heap_census::release(p); }
void operator delete[](void* p) noexcept { heap_census::release(p); }
void operator delete(void* p, std::size_t) noexcept { heap_census::release(p); }
void operator delete[](void* p, std::size_t) noexcept { heap_census::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { heap_census::release(p, true); }
void operator delete[](void* p, std::align_val_t) noexcept { heap_census::release(p, true); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  heap_census::release(p, true);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  heap_census::release(p, true);
}

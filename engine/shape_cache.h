// ShapeCache: what a backend builds per set of input shapes (a Graph on the CPU, a graph with its GPU
// ops and plans on the GPU), kept for the shapes a model has run at so that a repeated shape costs
// nothing. Bounded: beyond `capacity` entries the least recently used one is dropped (a caller still
// holding its shared_ptr keeps it alive), so a stream of ever-new sizes cannot grow memory without end.
//
// Plain C++, no CUDA. Not thread-safe: its owner serializes access (a context serves one thread at a
// time; CpuExecutor holds a mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "layers/layer.h"

namespace kiln {

template <class T>
class ShapeCache {
 public:
  using Key = std::vector<Shape>;

  explicit ShapeCache(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // The entry for `key`, built by `build()` the first time (or again after it was dropped). If build
  // throws, nothing is cached and the exception propagates.
  std::shared_ptr<T> get(const Key& key, const std::function<std::shared_ptr<T>()>& build) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      std::shared_ptr<T> made = build();
      if (entries_.size() >= capacity_) drop_least_recent();
      it = entries_.emplace(key, Entry{std::move(made), 0}).first;
      ++builds_;
    }
    it->second.last_use = ++clock_;
    return it->second.value;
  }

  // The entry for `key` if cached, else null; does not count as a use.
  std::shared_ptr<T> find(const Key& key) const {
    const auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : it->second.value;
  }

  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }
  // How many entries were ever built (a dropped and rebuilt key counts twice).
  std::uint64_t builds() const { return builds_; }
  std::vector<Key> keys() const {
    std::vector<Key> out;
    for (const auto& kv : entries_) out.push_back(kv.first);
    return out;
  }
  template <class F>
  void for_each(F f) const {
    for (const auto& kv : entries_) f(kv.first, *kv.second.value);
  }

 private:
  struct Entry {
    std::shared_ptr<T> value;
    std::uint64_t last_use = 0;
  };

  void drop_least_recent() {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.last_use < oldest->second.last_use) oldest = it;
    }
    entries_.erase(oldest);
  }

  std::size_t capacity_;
  std::map<Key, Entry> entries_;
  std::uint64_t clock_ = 0;
  std::uint64_t builds_ = 0;
};

}  // namespace kiln

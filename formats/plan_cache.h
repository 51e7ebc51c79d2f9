// The persistent plan cache: what kiln's GPU engine chose for a layer (a cuDNN engine config, a
// serialized execution plan), kept on disk so that the next load of the same model on the same GPU and
// libraries does not choose or compile it again. CUDA-free: it stores opaque payloads under text keys;
// engine/gpu/plan_cache_gpu.h makes the keys and layers/conv the payloads.
//
// Note [plan cache]
// A key names everything a choice depends on: the GPU (name, SM count, compute capability), the
// driver, cuDNN's version, the layer's graph, the precision, the algorithm mode and the workspace cap.
// An entry is one file, <directory>/<16 hex digits of the key's FNV-1a hash>.kpc, that holds the key
// in full, the payload, and a CRC-32 over both (formats/README.md, "Plan cache entries", byte by byte).
//   - Stale or foreign entries: a different GPU, driver, cuDNN or graph is a different key, so a file
//     written for it is either never looked up or, when two keys share a file name, rejected because
//     the key inside differs. An entry whose payload the GPU side cannot use (cuDNN refuses the plan) is
//     rejected through reject(); either way the caller rebuilds and put() replaces the file.
//   - Damaged entries (truncated, bit flips, a wrong header, absurd sizes) are rejected before any
//     buffer is sized from them: a file larger than kMaxEntryBytes is never read.
//   - Concurrent writers (threads, or processes loading the same model) never corrupt an entry: each
//     writes a private temporary file in the directory and renames it over the entry, which POSIX makes
//     atomic; readers see the old file or the new one, whole.
//   - A writer killed between creating its temporary file and renaming it leaves that file behind:
//     the first put() of each PlanCache removes temporaries (`*.kpc.tmp.*`) older than
//     kStaleTemporarySeconds, which no live writer can still own. Entries are not fsync'ed: one that
//     a crash leaves short fails its size or CRC check and is rebuilt, so a load never pays for a sync.
//   - The cache is best effort: a directory that cannot be created or written costs the speed-up, never
//     the load (write failures are counted, and the first reason kept).
// Besides the files, the cache keeps every payload it read or wrote in memory, so identical layers of
// one model (ResNet's repeated blocks) are chosen once even with the directory off.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "base/api.h"

namespace kiln {

struct PlanCacheStats {
  std::int64_t hits = 0;            // get() returned a payload (from memory or a file)
  std::int64_t misses = 0;          // no entry for the key
  std::int64_t rejected = 0;        // an entry was found but not used: damaged, another key's, or reject()ed
  std::int64_t written = 0;         // entries put() wrote to the directory
  std::int64_t write_failures = 0;  // put()s whose file could not be written (the memory copy is kept)
};

class KILN_API PlanCache {
 public:
  // Largest entry file read (key + payload + header); a larger file is rejected unread.
  static constexpr std::uint64_t kMaxEntryBytes = std::uint64_t{64} << 20;
  static constexpr std::uint64_t kMaxKeyBytes = std::uint64_t{1} << 20;
  // A temporary file this old is a dead writer's (a write takes milliseconds).
  static constexpr std::int64_t kStaleTemporarySeconds = 3600;

  // `directory`: where entries live (created, with its parents, at the first put()); empty: memory only.
  explicit PlanCache(std::string directory);

  // The payload stored under `key`; nullopt when there is none or the entry was rejected (see the
  // note). Thread-safe.
  std::optional<std::string> get(const std::string& key);
  // Stores `payload` under `key`, in memory and (when there is a directory) in its file, replacing what
  // was there. Never throws for a file it cannot write. Thread-safe.
  void put(const std::string& key, const std::string& payload);
  // The payload get() returned for `key` could not be used (`why`): counted as a rejection instead of a
  // hit, and forgotten in memory, so the caller's rebuilt payload goes through put().
  void reject(const std::string& key, const std::string& why);

  PlanCacheStats stats() const;
  const std::string& directory() const { return directory_; }
  // The first rejection or write failure, for logs ("" when none).
  std::string first_problem() const;
  // The file an entry for `key` lives in ("" for a memory-only cache).
  std::string entry_path(const std::string& key) const;

  // Where the cache lives by default: $KILN_PLAN_CACHE if set ("off" or "" for memory only), else
  // $XDG_CACHE_HOME/kiln/plans, else $HOME/.cache/kiln/plans, else memory only.
  static std::string default_directory();

 private:
  std::optional<std::string> read_entry(const std::string& key, std::string* problem) const;
  bool write_entry(const std::string& key, const std::string& payload, std::string* problem) const;
  void remove_stale_temporaries() const;

  std::string directory_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> memory_;
  PlanCacheStats stats_;
  std::string first_problem_;
  bool swept_ = false;  // remove_stale_temporaries() ran (under mutex_)
};

// The entry file's bytes for `key` and `payload` (formats/README.md), and the reverse: the payload, or
// nullopt with the reason in `problem` when `bytes` are not a whole, undamaged entry for `key`.
KILN_API std::string encode_plan_entry(const std::string& key, const std::string& payload);
KILN_API std::optional<std::string> decode_plan_entry(const std::string& bytes, const std::string& key,
                                                      std::string* problem);

}  // namespace kiln

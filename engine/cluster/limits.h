#pragma once
// The limits the daemons hold a peer or a client to, in one place so that they agree end
// to end (docs/security.md has the table). What one side may send, the other accepts.

#include <cstddef>
#include <cstdint>

#include "core/json_limits.h"

namespace weir::cluster {

/// The largest CONTROL frame payload either side reads (a deploy message carries a whole
/// plan and its plugin libraries). The JobManager refuses at submission a job whose deploy
/// message could be larger (plan_json.h, deployMessageBound).
constexpr std::uint32_t kMaxControlMessage = 16u << 20;
/// The deepest nesting of a control message: a job's own limit (core/json_limits.h,
/// kMaxJsonDepth) and room for the deploy message's envelope around its params, so that
/// every job the API accepts can be deployed.
constexpr int kMaxControlJsonDepth = kMaxJsonDepth + 8;

/// The longest TaskManager name (and data host) a `register` may carry.
constexpr std::size_t kMaxNodeName = 256;
/// The most slots a TaskManager may offer (its --slots flag allows the same).
constexpr int kMaxSlots = 1024;

/// The most API connections a JobManager keeps open at once; more are closed as they are
/// accepted (about 70 KB each while a request is read: at most ~36 MB).
constexpr int kMaxApiConnections = 512;
/// The most RPC connections still in their handshake (not yet authenticated) at once;
/// more are closed as they are accepted. Each handshake ends within 5 s.
constexpr int kMaxPendingHandshakes = 64;

/// The most LOST TaskManagers a JobManager remembers (GET /v1/taskmanagers); older ones
/// are forgotten, their history stays in the metadata.
constexpr std::size_t kMaxLostTaskManagers = 64;

/// Counts a connection while it lives, for the caps above (one io thread: a plain int).
class CountedConnection {
 public:
  explicit CountedConnection(int& count) : count_(&count) { ++*count_; }
  ~CountedConnection() { release(); }
  CountedConnection(const CountedConnection&) = delete;
  CountedConnection& operator=(const CountedConnection&) = delete;
  /// Stops counting before the end of life (a handshake that is over); idempotent.
  void release() {
    if (count_) --*count_;
    count_ = nullptr;
  }

 private:
  int* count_;
};

}  // namespace weir::cluster

#pragma once
// The life of a job in the JobManager: its states, the states of its subtasks, which
// transitions are allowed, and the restart strategy that decides what a failure leads to.
// Pure (no I/O, no clock of its own: times are passed in), so it is unit-tested alone.
//
// A job run is a sequence of attempts (1, 2, ...). Each attempt is one deployment of the
// whole job onto slots; a restart is a new attempt. Everything a TaskManager wires for an
// attempt (subtasks, gates, channels keyed by job, attempt and channel) is released when
// the attempt's subtasks there have stopped; the TaskManager then says so
// (`attempt_ended`), and only then are its slots free again, so a restarted attempt never
// overlaps the old one on a slot, a channel or a part file.
//
//   CREATED ──deploy──> RUNNING ──every subtask FINISHED──> FINISHED
//      │                  │  │
//      │ cancel           │  └─cancel──> CANCELING ──every TaskManager ended the attempt──> CANCELED
//      v                  │
//   CANCELED              └─a subtask FAILED / a TaskManager lost──> FAILING
//                                                                      │ every TaskManager ended the attempt
//                                          strategy allows a restart ─┴─ strategy says no
//                                                    v                       v
//                                               RESTARTING                 FAILED
//                        (waits its delay, then for free slots; `cancel` -> CANCELED)
//                                                    │ deploy (attempt + 1)
//                                                    v
//                                                 RUNNING
//
// A subtask: CREATED -> DEPLOYING -> RUNNING -> FINISHED | FAILED | CANCELED, and
// CANCELING while a cancel is on its way. A report for another attempt than the current
// one, or from a TaskManager the subtask was not placed on, is ignored.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace weir::cluster {

enum class JobState : std::uint8_t { Created, Running, Restarting, Canceling, Failing, Finished, Failed, Canceled };
enum class SubtaskState : std::uint8_t { Created, Deploying, Running, Canceling, Finished, Failed, Canceled };

std::string_view stateName(JobState s);      // "CREATED", "RUNNING", ... (the API's words)
std::string_view stateName(SubtaskState s);
std::optional<SubtaskState> parseSubtaskState(std::string_view s);
bool isTerminal(JobState s);      // FINISHED, FAILED, CANCELED
bool isTerminal(SubtaskState s);  // FINISHED, FAILED, CANCELED
/// Whether the diagram above has this arrow.
bool canTransition(JobState from, JobState to);

/// A job's `restart` object (normalized by validation: every field present), as in Flink:
///   none               a failure fails the job;
///   fixed_delay        up to max_attempts restarts, delay_ms apart;
///   exponential_delay  up to max_attempts restarts; the first waits delay_ms, each next
///                      one multiplier times longer, at most max_delay_ms; after the job
///                      ran reset_after_ms without failing, the wait starts over at
///                      delay_ms and so does the count;
///   failure_rate       restarts delay_ms apart unless more than max_attempts failures
///                      happened within the last interval_ms.
struct RestartStrategy {
  enum class Kind : std::uint8_t { None, FixedDelay, ExponentialDelay, FailureRate };
  Kind kind = Kind::None;
  int maxAttempts = 0;
  std::int64_t delayMs = 0;
  std::int64_t maxDelayMs = 0;
  double multiplier = 1;
  std::int64_t intervalMs = 0;
  std::int64_t resetAfterMs = 0;

  static RestartStrategy fromJson(const nlohmann::json& normalized);
  std::string describe() const;  // "fixed_delay (3 attempts, 1000 ms apart)"
};

/// Applies a RestartStrategy to the failures of one job.
class RestartTracker {
 public:
  explicit RestartTracker(RestartStrategy strategy = {}) : strategy_(strategy) {}

  struct Decision {
    bool restart = false;
    std::int64_t delayMs = 0;  // wait before the next attempt is deployed
    std::string reason;        // why not (restart == false): "restart strategy none", ...
  };
  /// A failure at `nowMs` of an attempt that had been running since `runningSinceMs`
  /// (wall ms; equal when it failed while deploying).
  Decision onFailure(std::int64_t nowMs, std::int64_t runningSinceMs);
  int restarts() const { return restarts_; }
  const RestartStrategy& strategy() const { return strategy_; }

 private:
  RestartStrategy strategy_;
  int restarts_ = 0;         // all restarts of the job
  int sinceReset_ = 0;       // exponential_delay: restarts since the last reset
  std::int64_t nextDelay_ = -1;
  std::vector<std::int64_t> failures_;  // failure_rate: failure times within the interval
};

}  // namespace weir::cluster

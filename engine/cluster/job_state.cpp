#include "cluster/job_state.h"

#include <algorithm>

namespace weir::cluster {

std::string_view stateName(JobState s) {
  switch (s) {
    case JobState::Created: return "CREATED";
    case JobState::Running: return "RUNNING";
    case JobState::Restarting: return "RESTARTING";
    case JobState::Canceling: return "CANCELING";
    case JobState::Failing: return "FAILING";
    case JobState::Finished: return "FINISHED";
    case JobState::Failed: return "FAILED";
    case JobState::Canceled: return "CANCELED";
  }
  return "?";
}

std::string_view stateName(SubtaskState s) {
  switch (s) {
    case SubtaskState::Created: return "CREATED";
    case SubtaskState::Deploying: return "DEPLOYING";
    case SubtaskState::Running: return "RUNNING";
    case SubtaskState::Canceling: return "CANCELING";
    case SubtaskState::Finished: return "FINISHED";
    case SubtaskState::Failed: return "FAILED";
    case SubtaskState::Canceled: return "CANCELED";
  }
  return "?";
}

std::optional<SubtaskState> parseSubtaskState(std::string_view s) {
  for (auto st : {SubtaskState::Created, SubtaskState::Deploying, SubtaskState::Running, SubtaskState::Canceling,
                  SubtaskState::Finished, SubtaskState::Failed, SubtaskState::Canceled})
    if (stateName(st) == s) return st;
  return std::nullopt;
}

bool isTerminal(JobState s) { return s == JobState::Finished || s == JobState::Failed || s == JobState::Canceled; }
bool isTerminal(SubtaskState s) {
  return s == SubtaskState::Finished || s == SubtaskState::Failed || s == SubtaskState::Canceled;
}

bool canTransition(JobState from, JobState to) {
  using S = JobState;
  switch (from) {
    case S::Created: return to == S::Running || to == S::Canceled || to == S::Failed;
    case S::Running: return to == S::Finished || to == S::Failing || to == S::Canceling;
    case S::Failing: return to == S::Restarting || to == S::Failed;
    case S::Canceling: return to == S::Canceled;
    case S::Restarting: return to == S::Running || to == S::Canceled || to == S::Failed;
    case S::Finished:
    case S::Failed:
    case S::Canceled: return false;
  }
  return false;
}

RestartStrategy RestartStrategy::fromJson(const nlohmann::json& j) {
  RestartStrategy r;
  const std::string kind = j.value("strategy", "none");
  r.kind = kind == "fixed_delay"         ? Kind::FixedDelay
           : kind == "exponential_delay" ? Kind::ExponentialDelay
           : kind == "failure_rate"      ? Kind::FailureRate
                                         : Kind::None;
  r.maxAttempts = j.value("max_attempts", 0);
  r.delayMs = j.value("delay_ms", std::int64_t{0});
  r.maxDelayMs = j.value("max_delay_ms", r.delayMs);
  r.multiplier = j.value("multiplier", 1.0);
  r.intervalMs = j.value("interval_ms", std::int64_t{60000});
  r.resetAfterMs = j.value("reset_after_ms", std::int64_t{3600000});
  return r;
}

std::string RestartStrategy::describe() const {
  const std::string n = std::to_string(maxAttempts), d = std::to_string(delayMs);
  switch (kind) {
    case Kind::None: return "none";
    case Kind::FixedDelay: return "fixed_delay (" + n + " restarts, " + d + " ms apart)";
    case Kind::ExponentialDelay:
      return "exponential_delay (" + n + " restarts, from " + d + " ms up to " + std::to_string(maxDelayMs) + " ms)";
    case Kind::FailureRate:
      return "failure_rate (at most " + n + " failures in " + std::to_string(intervalMs) + " ms, " + d + " ms apart)";
  }
  return "?";
}

RestartTracker::Decision RestartTracker::onFailure(std::int64_t nowMs, std::int64_t runningSinceMs) {
  using K = RestartStrategy::Kind;
  const RestartStrategy& s = strategy_;
  Decision d;
  switch (s.kind) {
    case K::None:
      d.reason = "the restart strategy is none";
      return d;
    case K::FixedDelay:
      if (restarts_ >= s.maxAttempts) {
        d.reason = "the restart strategy " + s.describe() + " is exhausted";
        return d;
      }
      d.delayMs = s.delayMs;
      break;
    case K::ExponentialDelay: {
      if (nextDelay_ >= 0 && nowMs - runningSinceMs >= s.resetAfterMs) {  // a long healthy run: start over
        nextDelay_ = -1;
        sinceReset_ = 0;
      }
      if (sinceReset_ >= s.maxAttempts) {
        d.reason = "the restart strategy " + s.describe() + " is exhausted";
        return d;
      }
      d.delayMs = nextDelay_ < 0 ? s.delayMs : nextDelay_;
      const double next = static_cast<double>(d.delayMs) * s.multiplier;
      nextDelay_ = static_cast<std::int64_t>(std::min(next, static_cast<double>(std::max(s.maxDelayMs, s.delayMs))));
      ++sinceReset_;
      break;
    }
    case K::FailureRate: {
      std::erase_if(failures_, [&](std::int64_t t) { return t <= nowMs - s.intervalMs; });
      failures_.push_back(nowMs);
      if (static_cast<int>(failures_.size()) > s.maxAttempts) {
        d.reason = "more than " + std::to_string(s.maxAttempts) + " failures within " + std::to_string(s.intervalMs) +
                   " ms (restart strategy " + s.describe() + ")";
        return d;
      }
      d.delayMs = s.delayMs;
      break;
    }
  }
  ++restarts_;
  d.restart = true;
  return d;
}

}  // namespace weir::cluster

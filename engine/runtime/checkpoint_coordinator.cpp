#include "runtime/checkpoint_coordinator.h"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace weir {

using nlohmann::json;

CheckpointSettings CheckpointSettings::fromJson(const json& j) {
  CheckpointSettings s;
  s.intervalMs = j.value("interval_ms", s.intervalMs);
  s.exactlyOnce = j.value("mode", std::string("exactly_once")) != "at_least_once";
  s.timeoutMs = j.value("timeout_ms", s.timeoutMs);
  s.minPauseMs = j.value("min_pause_ms", s.minPauseMs);
  s.maxConcurrent = j.value("max_concurrent", s.maxConcurrent);
  s.retained = j.value("retained", s.retained);
  return s;
}

std::vector<CheckpointTask> checkpointTasks(const ExecutionGraph& graph) {
  std::vector<CheckpointTask> tasks;
  for (const auto& v : graph.vertices)
    for (int i = 0; i < v.parallelism; ++i) tasks.push_back({v.id, i, v.gateChannels() == 0});
  return tasks;
}

std::string_view checkpointStatusName(CheckpointStatus s) {
  switch (s) {
    case CheckpointStatus::InProgress: return "IN_PROGRESS";
    case CheckpointStatus::Completed: return "COMPLETED";
    case CheckpointStatus::Failed: return "FAILED";
  }
  return "?";
}

json CheckpointRecord::toJson(bool withSubtasks) const {
  json j{{"id", id},
         {"attempt", attempt},
         {"kind", kind},
         {"status", std::string(checkpointStatusName(status))},
         {"triggered_at", triggeredAt},
         {"ended_at", endedAt ? json(endedAt) : json()},
         {"duration_ms", endedAt ? json(endedAt - triggeredAt) : json()},
         {"failure", failure.empty() ? json() : json(failure)},
         {"bytes", bytes},
         {"acknowledged", acknowledged},
         {"total", total},
         {"max_sync_ms", maxSyncMs},
         {"max_async_ms", maxAsyncMs},
         {"max_alignment_ms", maxAlignmentMs},
         {"slowest", slowest},
         {"path", path}};
  if (withSubtasks) {
    json subs = json::array();
    for (const auto& a : acks) subs.push_back(a.toJson());
    j["subtasks"] = std::move(subs);
  }
  return j;
}

CheckpointCoordinator::CheckpointCoordinator(CheckpointSettings settings, const JobPlan& plan,
                                             std::vector<CheckpointTask> tasks, std::filesystem::path jobDir,
                                             std::string jobId, int attempt, std::int64_t firstId,
                                             const RestoreSource* restored)
    : settings_(settings), plan_(plan), tasks_(std::move(tasks)), jobDir_(std::move(jobDir)),
      jobId_(std::move(jobId)), attempt_(attempt), nextId_(std::max<std::int64_t>(1, firstId)) {
  // Checkpoints of earlier attempts: completed ones count for retention; ones a crash left
  // incomplete (no _metadata) are removed.
  for (const CheckpointFolder& f : checkpointFolders(jobDir_)) {
    nextId_ = std::max<std::int64_t>(nextId_, f.id + 1);  // ids never repeat within a job
    if (f.complete) {
      completedIds_.push_back(f.id);  // in id order
      latestCompleted_ = f.id;
    } else {
      std::error_code ec;
      std::filesystem::remove_all(f.path, ec);  // no attempt runs now: nobody writes there
    }
  }
  if (!restored) return;
  // Subtasks the restored checkpoint saw finished: their snapshot there is what later
  // checkpoints count them with, once they have left.
  const ExecutionGraph graph = ExecutionGraph::build(plan_);
  for (const auto& [vertex, subtask] : restored->metadata.finished) {
    const int v = graph.vertexIndex(vertex);
    if (v < 0) continue;
    SubtaskAck ack;
    ack.checkpointId = restored->metadata.id;
    ack.vertex = vertex;
    ack.subtask = subtask;
    ack.finished = true;
    for (int n : graph.vertices[static_cast<std::size_t>(v)].nodes) {
      const std::string& node = plan_.nodes[static_cast<std::size_t>(n)].id;
      auto it = restored->metadata.nodes.find(node);
      if (it == restored->metadata.nodes.end() || subtask >= it->second.parallelism) continue;
      const std::string& file = it->second.files[static_cast<std::size_t>(subtask)];
      if (file.empty()) continue;
      std::int64_t bytes = 0, stateBytes = 0;
      try {
        std::ifstream in(restored->dir / file, std::ios::binary);
        const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        bytes = static_cast<std::int64_t>(content.size());
        stateBytes = OperatorSnapshot::decode(content, (restored->dir / file).string()).stateBytes();
      } catch (const std::exception&) {
        // Unreadable: the restore itself reports it; here it only counts for statistics.
      }
      ack.files.push_back({node, file, bytes, stateBytes});
    }
    const CheckpointTask key{vertex, subtask, false};
    lastCompletedAck_[key] = std::move(ack);
    lastCompletedDir_[key] = restored->dir;
  }
}

int CheckpointCoordinator::numInProgress() const {
  return static_cast<int>(std::count_if(history_.begin(), history_.end(), [](const CheckpointRecord& r) {
    return r.status == CheckpointStatus::InProgress;
  }));
}

CheckpointRecord* CheckpointCoordinator::find(std::int64_t id) {
  for (auto& r : history_)
    if (r.id == id) return &r;
  return nullptr;
}

CheckpointCoordinator::Trigger CheckpointCoordinator::start(std::int64_t nowMs) {
  CheckpointRecord r;
  r.id = nextId_++;
  r.attempt = attempt_;
  r.triggeredAt = nowMs;
  r.total = static_cast<int>(tasks_.size());
  r.path = checkpointDir(jobDir_, r.id).string();
  lastTriggerAt_ = nowMs;
  Trigger t{r.id, nowMs, {}};
  for (const auto& task : tasks_)
    if (task.source && !left_.count(task)) t.targets.push_back(task);
  history_.push_back(std::move(r));
  // Keep the history bounded: the API shows the recent past; SQLite keeps all of it.
  if (history_.size() > 200 && history_.front().status != CheckpointStatus::InProgress) history_.erase(history_.begin());
  return t;
}

std::optional<CheckpointCoordinator::Trigger> CheckpointCoordinator::tick(std::int64_t nowMs,
                                                                          std::vector<Outcome>& aborted) {
  for (auto& r : history_)
    if (r.status == CheckpointStatus::InProgress && nowMs - r.triggeredAt >= settings_.timeoutMs)
      aborted.push_back(fail(r, "timed out after " + std::to_string(settings_.timeoutMs) + " ms (" +
                                    std::to_string(r.acknowledged) + " of " + std::to_string(r.total) +
                                    " subtasks acknowledged)", nowMs));
  if (left_.size() == tasks_.size()) return std::nullopt;  // everything has ended
  if (numInProgress() >= settings_.maxConcurrent) return std::nullopt;
  if (nowMs - lastTriggerAt_ < settings_.intervalMs) return std::nullopt;
  if (nowMs - lastEndAt_ < settings_.minPauseMs) return std::nullopt;
  return start(nowMs);
}

CheckpointCoordinator::Trigger CheckpointCoordinator::triggerSavepoint(std::int64_t nowMs,
                                                                       const std::filesystem::path& savepointRoot) {
  const std::int64_t savedLastTrigger = lastTriggerAt_;
  Trigger t = start(nowMs);
  lastTriggerAt_ = savedLastTrigger;  // the periodic checkpoints keep their rhythm
  CheckpointRecord& r = history_.back();
  r.kind = "savepoint";
  savepointTargets_[t.id] = savepointRoot / ("savepoint-" + std::to_string(t.id));
  return t;
}

std::optional<CheckpointCoordinator::Outcome> CheckpointCoordinator::acknowledge(const SubtaskAck& ack, std::int64_t nowMs,
                                                                                 std::vector<Outcome>& aborted) {
  CheckpointRecord* r = find(ack.checkpointId);
  if (!r || r->status != CheckpointStatus::InProgress) return std::nullopt;  // late: already ended
  const CheckpointTask key{ack.vertex, ack.subtask, false};
  if (std::find(tasks_.begin(), tasks_.end(), key) == tasks_.end()) return std::nullopt;
  for (const auto& a : r->acks)
    if (a.vertex == ack.vertex && a.subtask == ack.subtask) return std::nullopt;  // twice
  r->acks.push_back(ack);
  r->acknowledged = static_cast<int>(r->acks.size());
  r->bytes += ack.stateBytes;
  r->maxSyncMs = std::max(r->maxSyncMs, ack.syncMs);
  r->maxAsyncMs = std::max(r->maxAsyncMs, ack.asyncMs);
  r->maxAlignmentMs = std::max(r->maxAlignmentMs, ack.alignmentMs);
  r->slowest = ack.vertex + "[" + std::to_string(ack.subtask) + "]";
  return completeIfDone(*r, nowMs, aborted);
}

std::optional<CheckpointCoordinator::Outcome> CheckpointCoordinator::decline(std::int64_t id, const std::string& reason,
                                                                             std::int64_t nowMs) {
  CheckpointRecord* r = find(id);
  if (!r || r->status != CheckpointStatus::InProgress) return std::nullopt;
  return fail(*r, reason, nowMs);
}

std::vector<CheckpointCoordinator::Outcome> CheckpointCoordinator::subtaskLeft(const std::string& vertex, int subtask,
                                                                               std::int64_t nowMs) {
  const CheckpointTask key{vertex, subtask, false};
  std::vector<Outcome> out;
  if (!lastCompletedAck_.count(key)) return out;  // never covered by a checkpoint: nothing to count
  left_[key] = true;
  std::vector<Outcome> aborted;
  for (auto& r : history_) {
    if (r.status != CheckpointStatus::InProgress) continue;
    if (auto o = completeIfDone(r, nowMs, aborted)) out.push_back(*o);
  }
  out.insert(out.end(), aborted.begin(), aborted.end());
  return out;
}

std::vector<CheckpointCoordinator::Outcome> CheckpointCoordinator::abortAll(const std::string& reason, std::int64_t nowMs) {
  std::vector<Outcome> out;
  for (auto& r : history_)
    if (r.status == CheckpointStatus::InProgress) out.push_back(fail(r, reason, nowMs));
  return out;
}

CheckpointCoordinator::Outcome CheckpointCoordinator::fail(CheckpointRecord& r, const std::string& reason,
                                                           std::int64_t nowMs) {
  r.status = CheckpointStatus::Failed;
  r.failure = reason;
  r.endedAt = nowMs;
  lastEndAt_ = nowMs;
  ++failedCount_;
  std::error_code ec;
  std::filesystem::remove_all(r.path, ec);  // an aborted checkpoint leaves nothing behind
  return Outcome{r.id, false, reason};
}

std::optional<CheckpointCoordinator::Outcome> CheckpointCoordinator::completeIfDone(CheckpointRecord& r, std::int64_t nowMs,
                                                                                   std::vector<Outcome>& aborted) {
  // Every task: acknowledged, or left with a snapshot from an earlier checkpoint.
  std::vector<SubtaskAck> all;
  for (const auto& task : tasks_) {
    const SubtaskAck* found = nullptr;
    for (const auto& a : r.acks)
      if (a.vertex == task.vertex && a.subtask == task.subtask) found = &a;
    if (found) {
      all.push_back(*found);
      continue;
    }
    if (!left_.count(task)) return std::nullopt;
    all.push_back(lastCompletedAck_.at(task));
  }
  const std::filesystem::path dir = r.path;
  const bool savepoint = r.kind == "savepoint";
  CheckpointMetadata meta;
  // The record as it reads once complete: subtasks that had left included, with the
  // snapshot they count with.
  auto markCompleted = [&](CheckpointRecord& c) {
    c.status = CheckpointStatus::Completed;
    c.endedAt = nowMs;
    c.bytes = meta.totalBytes;
    c.acks = all;
    c.acknowledged = static_cast<int>(all.size());
  };
  meta.kind = savepoint ? "savepoint" : "checkpoint";
  meta.job = jobId_;
  meta.attempt = attempt_;
  meta.id = r.id;
  meta.triggeredAt = r.triggeredAt;
  meta.completedAt = nowMs;
  meta.maxParallelism = plan_.maxParallelism;
  for (const auto& n : plan_.nodes) {
    CheckpointMetadata::Node node;
    node.type = n.type;
    node.parallelism = n.parallelism;
    node.key = stateKeyText(n);
    node.schema = inputSchemaText(n);
    node.files.assign(static_cast<std::size_t>(n.parallelism), "");
    meta.nodes[n.id] = std::move(node);
  }
  try {
    std::filesystem::create_directories(dir);
    for (auto& a : all) {
      if (a.checkpointId != r.id) {
        // A subtask that left: its last snapshot files come along (hard links: no copy,
        // and retention may delete the older checkpoint without losing them).
        const CheckpointTask key{a.vertex, a.subtask, false};
        const auto from = lastCompletedDir_.count(key) ? lastCompletedDir_.at(key) : checkpointDir(jobDir_, a.checkpointId);
        for (auto& f : a.files) {
          std::error_code ec;
          std::filesystem::create_hard_link(from / f.file, dir / f.file, ec);
          if (ec) std::filesystem::copy_file(from / f.file, dir / f.file, std::filesystem::copy_options::overwrite_existing);
        }
        a.checkpointId = r.id;
      }
      for (const auto& f : a.files) {
        auto it = meta.nodes.find(f.node);
        if (it == meta.nodes.end() || a.subtask >= it->second.parallelism)
          throw std::runtime_error("an acknowledgement names node '" + f.node + "' subtask " + std::to_string(a.subtask) +
                                   ", which the job does not have");
        it->second.files[static_cast<std::size_t>(a.subtask)] = f.file;
        it->second.stateBytes += f.stateBytes;
        meta.totalBytes += f.bytes;
      }
      if (a.finished) meta.finished.emplace_back(a.vertex, a.subtask);
    }
    if (guard_) {
      CheckpointRecord done = r;
      markCompleted(done);
      if (savepoint) done.path = savepointTargets_.at(r.id).string();
      if (std::string why = guard_(done); !why.empty()) throw std::runtime_error(why);
    }
    writeCheckpointMetadata(dir, meta);
    if (savepoint) {
      // Complete in its own folder, away from retention (rename: the same file system).
      const std::filesystem::path target = savepointTargets_.at(r.id);
      std::filesystem::create_directories(target.parent_path());
      std::filesystem::rename(dir, target);
      r.path = target.string();
    }
  } catch (const std::exception& e) {
    return fail(r, std::string("completing the ") + meta.kind + ": " + e.what(), nowMs);
  }
  markCompleted(r);
  lastEndAt_ = nowMs;
  if (savepoint) return Outcome{r.id, true, ""};
  latestCompleted_ = r.id;
  for (const auto& a : all) {
    lastCompletedAck_[CheckpointTask{a.vertex, a.subtask, false}] = a;
    lastCompletedDir_[CheckpointTask{a.vertex, a.subtask, false}] = dir;
  }
  completedIds_.push_back(r.id);
  // Older checkpoints still in progress can never be needed now.
  for (auto& o : history_)
    if (o.status == CheckpointStatus::InProgress && o.id < r.id && o.kind != "savepoint")
      aborted.push_back(fail(o, "subsumed by checkpoint " + std::to_string(r.id), nowMs));
  applyRetention();
  return Outcome{r.id, true, ""};
}

void CheckpointCoordinator::applyRetention() {
  while (static_cast<int>(completedIds_.size()) > settings_.retained) {
    std::error_code ec;
    std::filesystem::remove_all(checkpointDir(jobDir_, completedIds_.front()), ec);
    completedIds_.erase(completedIds_.begin());
  }
}

}  // namespace weir

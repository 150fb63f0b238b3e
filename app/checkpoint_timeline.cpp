#include "checkpoint_timeline.h"

#include "format.h"

#include <algorithm>

#include <nlohmann/json.hpp>

using nlohmann::json;

namespace {

std::int64_t int64(const json& j, const char* key, std::int64_t otherwise = 0) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<std::int64_t>() : otherwise;
}

std::string text(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

QString q(const std::string& s) { return QString::fromStdString(s); }

bool endedStatus(const std::string& s) { return s == "FINISHED" || s == "FAILED" || s == "CANCELED"; }

}  // namespace

CheckpointTimeline::CheckpointTimeline(QObject* parent) : QObject(parent) {}

bool CheckpointTimeline::applyJobText(const QString& s) { return applyJob(json::parse(s.toStdString(), nullptr, false)); }

bool CheckpointTimeline::applyCheckpointsText(const QString& s) {
  return applyCheckpoints(json::parse(s.toStdString(), nullptr, false));
}

void CheckpointTimeline::clear() {
  known_ = checkpointing_ = haveCheckpoints_ = false;
  status_.clear();
  restoredFrom_ = -1;
  vertexOf_.clear();
  restarts_.clear();
  history_.clear();
  completed_ = failed_ = inProgress_ = 0;
  duration_ = bytes_ = {};
  latestCompleted_ = -1;
  ++revision_;
  emit updated();
}

bool CheckpointTimeline::applyJob(const json& j) {
  if (!j.is_object() || !j.contains("id") || !j.contains("status")) return false;
  known_ = true;
  checkpointing_ = j.value("checkpointing", false);
  status_ = text(j, "status");
  restoredFrom_ = int64(j, "restored_from", -1);
  vertexOf_.clear();
  if (const auto chains = j.find("chains"); chains != j.end() && chains->is_array())
    for (const auto& c : *chains) {
      if (!c.is_object()) continue;
      const std::string vertex = text(c, "id");
      if (const auto nodes = c.find("nodes"); nodes != c.end() && nodes->is_array())
        for (const auto& n : *nodes)
          if (n.is_string()) vertexOf_[n.get<std::string>()] = vertex;
    }
  restarts_.clear();
  if (const auto rh = j.find("restart_history"); rh != j.end() && rh->is_array())
    for (const auto& r : *rh)
      if (r.is_object())
        restarts_.push_back({static_cast<int>(int64(r, "attempt")), int64(r, "time_ms"), int64(r, "delay_ms"),
                             text(r, "cause")});
  std::sort(restarts_.begin(), restarts_.end(), [](const Restart& a, const Restart& b) { return a.timeMs < b.timeMs; });
  ++revision_;
  emit updated();
  return true;
}

bool CheckpointTimeline::applyCheckpoints(const json& body) {
  if (!body.is_object() || !body.contains("history") || !body["history"].is_array()) return false;
  history_.clear();
  latestCompleted_ = -1;
  for (const auto& h : body["history"]) {
    if (!h.is_object()) continue;
    Checkpoint c;
    c.id = int64(h, "id");
    c.attempt = static_cast<int>(int64(h, "attempt"));
    c.kind = text(h, "kind");
    c.status = text(h, "status");
    c.failure = text(h, "failure");
    c.path = text(h, "path");
    c.triggeredMs = int64(h, "triggered_ms");
    c.endedMs = int64(h, "ended_ms", -1);
    c.durationMs = int64(h, "duration_ms", -1);
    c.bytes = int64(h, "bytes");
    c.acknowledged = static_cast<int>(int64(h, "acknowledged"));
    c.total = static_cast<int>(int64(h, "total"));
    c.maxSyncMs = int64(h, "max_sync_ms");
    c.maxAsyncMs = int64(h, "max_async_ms");
    c.maxAlignmentMs = int64(h, "max_alignment_ms");
    if (const auto subs = h.find("subtasks"); subs != h.end() && subs->is_array())
      for (const auto& s : *subs)
        if (s.is_object())
          c.subtasks.push_back({text(s, "vertex"), static_cast<int>(int64(s, "subtask")), int64(s, "bytes"),
                                int64(s, "sync_ms"), int64(s, "async_ms"), int64(s, "alignment_ms"),
                                s.value("finished", false)});
    std::sort(c.subtasks.begin(), c.subtasks.end(), [](const Subtask& a, const Subtask& b) {
      return std::tie(a.vertex, a.subtask) < std::tie(b.vertex, b.subtask);
    });
    history_.push_back(std::move(c));
  }
  std::sort(history_.begin(), history_.end(), [](const Checkpoint& a, const Checkpoint& b) { return a.id < b.id; });
  for (const Checkpoint& c : history_)
    if (c.status == "COMPLETED") latestCompleted_ = c.id;
  const json counts = body.value("counts", json::object());
  completed_ = static_cast<int>(int64(counts, "completed"));
  failed_ = static_cast<int>(int64(counts, "failed"));
  inProgress_ = static_cast<int>(int64(counts, "in_progress"));
  auto stat = [&](const char* key) {
    Stat s;
    const json summary = body.value("summary", json::object());
    if (const auto it = summary.find(key); it != summary.end() && it->is_object())
      s = {true, int64(*it, "min"), int64(*it, "avg"), int64(*it, "max")};
    return s;
  };
  duration_ = stat("duration_ms");
  bytes_ = stat("bytes");
  // The attempt running now restored from this checkpoint (the job's own word wins).
  if (const auto latest = body.find("latest"); latest != body.end() && latest->is_object())
    if (const auto r = latest->find("restored"); r != latest->end() && r->is_object() && restoredFrom_ < 0)
      restoredFrom_ = int64(*r, "id", -1);
  haveCheckpoints_ = true;
  ++revision_;
  emit updated();
  return true;
}

bool CheckpointTimeline::running() const { return known_ && !endedStatus(status_); }

double CheckpointTimeline::maxDurationMs() const {
  std::int64_t m = 0;
  for (const Checkpoint& c : history_) m = std::max(m, c.durationMs);
  return static_cast<double>(m);
}

QString CheckpointTimeline::summaryText() const {
  if (!known_) return {};
  if (!checkpointing_) return QStringLiteral("no checkpoints (the job has no checkpoint object)");
  QStringList parts;
  if (completed_ + failed_ + inProgress_ == 0) parts << QStringLiteral("no checkpoint yet");
  else {
    parts << QString::number(completed_) + " completed";
    parts << QString::number(failed_) + " failed";
    if (inProgress_ > 0) parts << QString::number(inProgress_) + " in progress";
  }
  if (duration_.present)
    parts << "duration " + Format::durationText(static_cast<double>(duration_.min)) + " / " +
                 Format::durationText(static_cast<double>(duration_.avg)) + " / " +
                 Format::durationText(static_cast<double>(duration_.max)) + " · size " +
                 Format::bytesText(static_cast<double>(bytes_.min)) + " / " + Format::bytesText(static_cast<double>(bytes_.avg)) + " / " +
                 Format::bytesText(static_cast<double>(bytes_.max)) + " (min / avg / max)";
  if (restoredFrom_ >= 0) parts << "restored from " + QString::number(restoredFrom_);
  if (!restarts_.empty()) parts << QString::number(restarts_.size()) + (restarts_.size() == 1 ? " restart" : " restarts");
  return parts.join(" · ");
}

QVariantMap CheckpointTimeline::barOf(const Checkpoint& c) const {
  QString label = "#" + QString::number(c.id);
  if (c.kind == "savepoint") label += " savepoint";
  if (c.durationMs >= 0) label += " · " + Format::durationText(static_cast<double>(c.durationMs));
  if (c.status == "COMPLETED")
    label += " · " + Format::bytesText(static_cast<double>(c.bytes)) + " · align " +
             Format::durationText(static_cast<double>(c.maxAlignmentMs));
  else if (c.status == "FAILED") label += " · failed: " + q(c.failure);
  else label += " · in progress (" + QString::number(c.acknowledged) + "/" + QString::number(c.total) + ")";
  return {{"id", QVariant::fromValue<qint64>(c.id)},
          {"attempt", c.attempt},
          {"kind", q(c.kind)},
          {"status", q(c.status)},
          {"triggeredMs", QVariant::fromValue<qint64>(c.triggeredMs)},
          {"durationMs", QVariant::fromValue<qint64>(c.durationMs)},
          {"bytes", QVariant::fromValue<qint64>(c.bytes)},
          {"acknowledged", c.acknowledged},
          {"total", c.total},
          {"maxAlignmentMs", QVariant::fromValue<qint64>(c.maxAlignmentMs)},
          {"failure", q(c.failure)},
          {"label", label}};
}

QVariantList CheckpointTimeline::bars() const {
  QVariantList out;
  for (const Checkpoint& c : history_) out.push_back(barOf(c));
  return out;
}

QVariantList CheckpointTimeline::restarts() const {
  QVariantList out;
  for (const Restart& r : restarts_) {
    const auto before = std::find_if(history_.begin(), history_.end(),
                                     [&](const Checkpoint& c) { return c.triggeredMs > r.timeMs; });
    out.push_back(QVariantMap{{"attempt", r.attempt},
                              {"timeMs", QVariant::fromValue<qint64>(r.timeMs)},
                              {"cause", q(r.cause)},
                              {"delayMs", QVariant::fromValue<qint64>(r.delayMs)},
                              {"before", static_cast<int>(before - history_.begin())}});
  }
  return out;
}

QVariantMap CheckpointTimeline::checkpoint(qint64 id) const {
  const auto it = std::find_if(history_.begin(), history_.end(), [&](const Checkpoint& c) { return c.id == id; });
  if (it == history_.end()) return {};
  QVariantMap m = barOf(*it);
  QVariantList subs;
  for (const Subtask& s : it->subtasks)
    subs.push_back(QVariantMap{{"vertex", q(s.vertex)},
                               {"subtask", s.subtask},
                               {"bytes", QVariant::fromValue<qint64>(s.bytes)},
                               {"syncMs", QVariant::fromValue<qint64>(s.syncMs)},
                               {"asyncMs", QVariant::fromValue<qint64>(s.asyncMs)},
                               {"alignmentMs", QVariant::fromValue<qint64>(s.alignmentMs)},
                               {"finished", s.finished}});
  m["endedMs"] = QVariant::fromValue<qint64>(it->endedMs);
  m["path"] = q(it->path);
  m["maxSyncMs"] = QVariant::fromValue<qint64>(it->maxSyncMs);
  m["maxAsyncMs"] = QVariant::fromValue<qint64>(it->maxAsyncMs);
  m["subtasks"] = subs;
  return m;
}

QVariantMap CheckpointTimeline::node(const QString& nodeId) const {
  if (!running() || !checkpointing_ || latestCompleted_ < 0) return {};
  const auto v = vertexOf_.find(nodeId.toStdString());
  if (v == vertexOf_.end()) return {};
  const auto it = std::find_if(history_.begin(), history_.end(),
                               [&](const Checkpoint& c) { return c.id == latestCompleted_; });
  std::int64_t bytes = 0, duration = 0, alignment = 0, slowestMs = -1;
  int slowest = -1;
  for (const Subtask& s : it->subtasks) {
    if (s.vertex != v->second) continue;
    bytes += s.bytes;
    duration = std::max(duration, s.syncMs + s.asyncMs);
    alignment = std::max(alignment, s.alignmentMs);
    const std::int64_t total = s.alignmentMs + s.syncMs + s.asyncMs;
    if (total > slowestMs) {
      slowestMs = total;
      slowest = s.subtask;
    }
  }
  if (slowest < 0) return {};  // the checkpoint has nothing of this vertex
  const QString text = "chk " + QString::number(it->id) + " · " + Format::bytesText(static_cast<double>(bytes)) + " · " +
                       Format::durationText(static_cast<double>(duration)) + " · align " +
                       Format::durationText(static_cast<double>(alignment)) + " · slowest #" + QString::number(slowest);
  return {{"checkpoint", QVariant::fromValue<qint64>(it->id)},
          {"bytes", QVariant::fromValue<qint64>(bytes)},
          {"durationMs", QVariant::fromValue<qint64>(duration)},
          {"alignmentMs", QVariant::fromValue<qint64>(alignment)},
          {"slowestSubtask", slowest},
          {"slowestMs", QVariant::fromValue<qint64>(slowestMs)},
          {"text", text}};
}

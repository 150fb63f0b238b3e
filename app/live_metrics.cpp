#include "live_metrics.h"

#include "format.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

using nlohmann::json;

namespace {

std::optional<std::int64_t> optionalMs(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<std::int64_t>();
}

double num(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

QVariant msOrNull(const std::optional<std::int64_t>& v) { return v ? QVariant::fromValue<qint64>(*v) : QVariant(); }

}  // namespace

LiveMetrics::LiveMetrics(QObject* parent) : QObject(parent) {}

QString LiveMetrics::level(double msPerS) {
  if (msPerS > 500) return QStringLiteral("high");
  if (msPerS > 100) return QStringLiteral("low");
  return QStringLiteral("ok");
}

bool LiveMetrics::applyText(const QString& text) {
  const json j = json::parse(text.toStdString(), nullptr, false);
  return applyMessage(j);
}

void LiveMetrics::clear() {
  nodes_.clear();
  edges_.clear();
  history_.clear();
  status_.clear();
  ++revision_;
  emit updated();
}

bool LiveMetrics::applyMessage(const json& m) {
  if (!m.is_object()) return false;
  if (m.contains("status") && m["status"].is_string()) status_ = QString::fromStdString(m["status"].get<std::string>());
  const auto subtasks = m.find("subtasks");
  if (subtasks == m.end() || !subtasks->is_array()) {
    ++revision_;
    emit updated();
    return m.value("type", "") == "status";
  }
  // The wall clock of the message (the JobManager's), for watermark lag.
  const std::int64_t now = m.contains("time_ms") && m["time_ms"].is_number()
                               ? m["time_ms"].get<std::int64_t>()
                               : std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();

  std::map<std::string, NodeStats> next;
  if (const auto vertices = m.find("vertices"); vertices != m.end() && vertices->is_array()) {
    applyLiveFormat(m, next);
  } else if (const auto nodes = m.find("nodes"); nodes != m.end() && nodes->is_array())
    for (const auto& n : *nodes) {
      if (!n.is_object() || !n.contains("id")) continue;
      NodeStats& s = next[n["id"].get<std::string>()];
      s.recordsInPerS = num(n, "records_in_per_s");
      s.recordsOutPerS = num(n, "records_out_per_s");
      s.recordsIn = static_cast<std::int64_t>(num(n, "records_in"));
      s.recordsOut = static_cast<std::int64_t>(num(n, "records_out"));
      s.deadLetters = static_cast<std::int64_t>(num(n, "dead_letters"));
      s.lateRecords = static_cast<std::int64_t>(num(n, "late_records"));
      s.hasInputs = !n.value("type", "").starts_with("source.");
    }
  const bool haveNodeTotals = !next.empty();

  for (const auto& st : *subtasks) {
    if (m.contains("vertices")) break;  // the WebSocket's form: done above
    if (!st.is_object()) continue;
    const SubtaskStats sub = subtaskStats(st, "input_watermark", "input_usage", "output_usage");
    const auto ops = st.find("operators");
    if (ops == st.end() || !ops->is_array()) continue;
    for (const auto& op : *ops) {
      if (!op.is_object() || !op.contains("node")) continue;
      NodeStats& s = next[op["node"].get<std::string>()];
      if (!haveNodeTotals) {
        s.recordsInPerS += num(op, "records_in_per_s");
        s.recordsOutPerS += num(op, "records_out_per_s");
        s.recordsIn += static_cast<std::int64_t>(num(op, "records_in"));
        s.recordsOut += static_cast<std::int64_t>(num(op, "records_out"));
        s.deadLetters += static_cast<std::int64_t>(num(op, "dead_letters"));
        s.lateRecords += static_cast<std::int64_t>(num(op, "late_records"));
      }
      SubtaskStats mine = sub;
      // Within a chain, an operator's own records rates are the operator's; time is the
      // subtask's (one thread runs the whole chain).
      mine.recordsInPerS = num(op, "records_in_per_s");
      mine.recordsOutPerS = num(op, "records_out_per_s");
      s.busy = std::max(s.busy, sub.busy);
      s.backpressured = std::max(s.backpressured, sub.backpressured);
      s.idle = s.subtasks.empty() ? sub.idle : std::min(s.idle, sub.idle);
      // The watermark that holds the node back: the smallest over its subtasks; a subtask
      // without one yet holds everything back.
      const auto wm = sub.inputWatermark ? sub.inputWatermark : sub.outputWatermark;
      if (s.subtasks.empty() || (s.watermark && (!wm || *wm < *s.watermark))) {
        s.watermark = wm;
        s.holdingSubtask = sub.subtask;
      }
      s.subtasks.push_back(mine);
    }
  }
  finish(next, now);
  nodes_ = std::move(next);

  edges_.clear();
  if (const auto edges = m.find("edges"); edges != m.end() && edges->is_array())
    for (const auto& e : *edges) {
      if (!e.is_object()) continue;
      EdgeStats& es = edges_[{e.value("from", ""), e.value("from_port", "out"), e.value("to", ""),
                              e.value("to_port", "in")}];
      es.rate = num(e, "records_per_s");
      es.records = e.contains("records") && e["records"].is_number() ? e["records"].get<std::int64_t>() : -1;
      es.chained = e.value("chained", false);
    }
  ++revision_;
  emit updated();
  return true;
}

LiveMetrics::SubtaskStats LiveMetrics::subtaskStats(const json& st, const char* watermarkKey, const char* inputKey,
                                                  const char* outputKey) {
  SubtaskStats sub;
  sub.subtask = st.value("subtask", 0);
  sub.taskmanager = st.value("taskmanager", "");
  sub.busy = num(st, "busy_ms_per_s");
  sub.backpressured = num(st, "backpressured_ms_per_s");
  sub.idle = num(st, "idle_ms_per_s");
  sub.inputWatermark = optionalMs(st, watermarkKey);
  sub.outputWatermark = optionalMs(st, "output_watermark");
  sub.recordsInPerS = num(st, "records_in_per_s");
  sub.recordsOutPerS = num(st, "records_out_per_s");
  sub.inputUsage = num(st, inputKey);
  sub.outputUsage = num(st, outputKey);
  return sub;
}

void LiveMetrics::applyLiveFormat(const json& m, std::map<std::string, NodeStats>& next) {
  for (const auto& v : m["vertices"]) {
    if (!v.is_object() || !v.contains("node")) continue;
    NodeStats& s = next[v["node"].get<std::string>()];
    s.recordsInPerS = num(v, "records_in_per_s");
    s.recordsOutPerS = num(v, "records_out_per_s");
    s.recordsIn = static_cast<std::int64_t>(num(v, "records_in"));
    s.recordsOut = static_cast<std::int64_t>(num(v, "records_out"));
    s.busy = num(v, "busy_ms_per_s_max");
    s.backpressured = num(v, "backpressured_ms_per_s_max");
    s.watermark = optionalMs(v, "watermark");
    s.holdingSubtask = v.contains("watermark_subtask") && v["watermark_subtask"].is_number()
                           ? v["watermark_subtask"].get<int>()
                           : -1;
    s.hasInputs = !v.value("type", "").starts_with("source.");
    s.fromVertex = true;
  }
  for (const auto& st : m["subtasks"]) {
    if (!st.is_object() || !st.contains("node")) continue;
    NodeStats& s = next[st["node"].get<std::string>()];
    const SubtaskStats sub = subtaskStats(st, "watermark", "input_queue", "output_queue");
    s.deadLetters += static_cast<std::int64_t>(num(st, "dead_letters"));
    s.lateRecords += static_cast<std::int64_t>(num(st, "late_records"));
    s.idle = s.subtasks.empty() ? sub.idle : std::min(s.idle, sub.idle);
    s.subtasks.push_back(sub);
  }
  // A source has no input watermark: show the lowest it emits, and who emits it.
  for (auto& [id, s] : next) {
    if (s.hasInputs || s.watermark || s.subtasks.empty()) continue;
    const SubtaskStats* low = nullptr;
    for (const auto& sub : s.subtasks) {
      if (!sub.outputWatermark) {
        low = nullptr;
        break;
      }
      if (!low || *sub.outputWatermark < *low->outputWatermark) low = &sub;
    }
    if (low) {
      s.watermark = low->outputWatermark;
      s.holdingSubtask = low->subtask;
    }
  }
}

void LiveMetrics::finish(std::map<std::string, NodeStats>& next, std::int64_t now) {
  for (auto& [id, s] : next) {
    std::sort(s.subtasks.begin(), s.subtasks.end(),
              [](const SubtaskStats& a, const SubtaskStats& b) { return a.subtask < b.subtask; });
    if (s.subtasks.size() <= 1 && !s.fromVertex) s.holdingSubtask = s.watermark ? -1 : s.holdingSubtask;
    if (s.subtasks.size() <= 1 && s.fromVertex) s.holdingSubtask = -1;
    const bool end = s.watermark && *s.watermark >= endOfInputMs;
    s.watermarkLagMs = s.watermark && !end ? static_cast<double>(now - *s.watermark) : 0.0;
    s.nowMs = now;
    for (const auto& sub : s.subtasks) s.inputQueue = std::max(s.inputQueue, sub.inputUsage);
    auto& h = history_[id];
    // How fast event time moves: the watermark's progress over the last ten seconds or so
    // (twenty messages) of wall-clock time.
    if (s.watermark && !end)
      for (std::size_t k = h.size() > 20 ? h.size() - 20 : 0; k < h.size(); ++k)
        if (h[k].watermark && *h[k].watermark < endOfInputMs && h[k].nowMs < now) {
          s.eventRate = static_cast<double>(*s.watermark - *h[k].watermark) / static_cast<double>(now - h[k].nowMs);
          break;
        }
    h.push_back({s.recordsInPerS, s.recordsOutPerS, s.busy, s.backpressured, s.watermarkLagMs, now, s.watermark});
    while (h.size() > historyLength) h.pop_front();
  }
}

double LiveMetrics::sourceRate() const {
  double sum = 0;
  for (const auto& [id, s] : nodes_)
    if (!s.hasInputs) sum += s.recordsOutPerS;
  return sum;
}

QVariantMap LiveMetrics::node(const QString& id) const {
  const auto it = nodes_.find(id.toStdString());
  if (it == nodes_.end()) return {};
  const NodeStats& s = it->second;
  QVariantList subs;
  for (const auto& t : s.subtasks)
    subs.push_back(QVariantMap{{"subtask", t.subtask},
                               {"taskmanager", QString::fromStdString(t.taskmanager)},
                               {"busy", t.busy},
                               {"backpressured", t.backpressured},
                               {"idle", t.idle},
                               {"inputWatermark", msOrNull(t.inputWatermark)},
                               {"outputWatermark", msOrNull(t.outputWatermark)},
                               {"recordsInPerS", t.recordsInPerS},
                               {"recordsOutPerS", t.recordsOutPerS},
                               {"inputUsage", t.inputUsage},
                               {"outputUsage", t.outputUsage}});
  return {{"recordsInPerS", s.recordsInPerS},
          {"recordsOutPerS", s.recordsOutPerS},
          {"recordsIn", QVariant::fromValue<qint64>(s.recordsIn)},
          {"recordsOut", QVariant::fromValue<qint64>(s.recordsOut)},
          {"deadLetters", QVariant::fromValue<qint64>(s.deadLetters)},
          {"lateRecords", QVariant::fromValue<qint64>(s.lateRecords)},
          {"busy", s.busy},
          {"backpressured", s.backpressured},
          {"idle", s.idle},
          {"level", level(std::max(s.busy, s.backpressured))},
          {"busyLevel", level(s.busy)},
          {"backpressureLevel", level(s.backpressured)},
          {"watermark", msOrNull(s.watermark)},
          {"watermarkLagMs", s.watermarkLagMs},
          {"endOfInput", s.watermark && *s.watermark >= endOfInputMs},
          {"eventRate", s.eventRate},
          {"historical", s.watermark && *s.watermark < endOfInputMs && historical(s.watermarkLagMs, s.eventRate)},
          {"inputQueue", s.inputQueue},
          {"holdingSubtask", s.holdingSubtask},
          {"parallelism", static_cast<int>(s.subtasks.size())},
          {"subtasks", subs}};
}

bool LiveMetrics::historical(double lagMs, double eventRate) {
  constexpr double hour = 3600e3;
  return lagMs > 24 * hour || (lagMs > hour && eventRate > 1.5);
}

bool LiveMetrics::ended() const {
  return status_ == "FINISHED" || status_ == "FAILED" || status_ == "CANCELED";
}

QVariantMap LiveMetrics::overlay(const QString& id) const {
  const auto it = nodes_.find(id.toStdString());
  if (it == nodes_.end()) return {};
  const NodeStats& s = it->second;
  const bool isSource = !s.hasInputs;
  const QString rate = Format::rateText(isSource ? s.recordsOutPerS : s.recordsInPerS);
  const QString busy = "busy " + Format::percentText(s.busy), bp = "bp " + Format::percentText(s.backpressured);
  QString pill = rate + "  " + busy + "  " + bp;
  const bool done = ended();
  if (done) {
    // What the run did in all, not its last rates.
    QStringList parts;
    if (s.hasInputs) parts << "in " + Format::countText(static_cast<double>(s.recordsIn));
    if (isSource || s.recordsOut > 0) parts << "out " + Format::countText(static_cast<double>(s.recordsOut));
    if (s.deadLetters > 0) parts << Format::countText(static_cast<double>(s.deadLetters)) + " dead letters";
    if (s.lateRecords > 0) parts << Format::countText(static_cast<double>(s.lateRecords)) + " late";
    pill = parts.join(" · ");
  }
  QString wm;
  if (s.watermark) {
    QString holder;
    if (s.holdingSubtask >= 0 && s.subtasks.size() > 1) holder = " (#" + QString::number(s.holdingSubtask) + ")";
    if (*s.watermark >= endOfInputMs) {
      wm = "wm end of input";
    } else if (historical(s.watermarkLagMs, s.eventRate)) {
      // Replayed or generated data: where event time is, and how fast it moves.
      wm = "wm " + Format::timeText(*s.watermark, s.nowMs) + holder;
      if (s.eventRate >= 0 && !done) wm += "\nevent time +" + Format::durationText(s.eventRate * 1000) + "/s";
    } else {
      wm = "wm " + Format::timeText(*s.watermark, s.nowMs) + holder;
      if (!done) wm += "\nlag " + Format::durationText(s.watermarkLagMs);
    }
  }
  const QString busyLevel = level(s.busy), bpLevel = level(s.backpressured);
  const QString pressure = std::max(s.busy, s.backpressured) <= 100 ? QString()
                           : s.backpressured > s.busy             ? QStringLiteral("backpressured")
                                                                  : QStringLiteral("busy");
  return {{"level", level(std::max(s.busy, s.backpressured))},
          {"pill", pill},
          {"rate", rate},
          {"busy", busy},
          {"bp", bp},
          {"busyLevel", busyLevel},
          {"bpLevel", bpLevel},
          {"pressure", pressure},
          {"watermarkText", wm},
          {"ended", done}};
}

QString LiveMetrics::edgeLabel(const QString& from, const QString& fromPort, const QString& to,
                               const QString& toPort) const {
  const auto it = edges_.find({from.toStdString(), fromPort.toStdString(), to.toStdString(), toPort.toStdString()});
  if (ended() && it != edges_.end() && it->second.records >= 0)
    return Format::countText(static_cast<double>(it->second.records));
  const double r = edgeRate(from, fromPort, to, toPort);
  if (r < 0) return {};
  const double q = edgeQueue(from, fromPort, to, toPort);
  return Format::rateText(r) + (q >= 0 && !ended() ? " · " + QString::number(std::lround(q * 100)) + "%" : QString());
}

double LiveMetrics::edgeRate(const QString& from, const QString& fromPort, const QString& to,
                             const QString& toPort) const {
  const auto it = edges_.find({from.toStdString(), fromPort.toStdString(), to.toStdString(), toPort.toStdString()});
  if (it != edges_.end()) return it->second.rate;
  if (!edges_.empty()) return -1;  // the message lists edges, and not this one
  const auto n = nodes_.find(from.toStdString());
  return n == nodes_.end() ? -1 : n->second.recordsOutPerS;
}

double LiveMetrics::edgeQueue(const QString& from, const QString& fromPort, const QString& to,
                              const QString& toPort) const {
  const auto it = edges_.find({from.toStdString(), fromPort.toStdString(), to.toStdString(), toPort.toStdString()});
  if (it == edges_.end() || it->second.chained) return -1;
  const auto n = nodes_.find(to.toStdString());
  return n == nodes_.end() || n->second.subtasks.empty() ? -1 : n->second.inputQueue;
}

QVariantList LiveMetrics::history(const QString& id, const QString& field) const {
  QVariantList out;
  const auto it = history_.find(id.toStdString());
  if (it == history_.end()) return out;
  for (const Sample& s : it->second) {
    if (field == "recordsInPerS") out.push_back(s.recordsInPerS);
    else if (field == "recordsOutPerS") out.push_back(s.recordsOutPerS);
    else if (field == "busy") out.push_back(s.busy);
    else if (field == "backpressured") out.push_back(s.backpressured);
    else if (field == "watermarkLagMs") out.push_back(s.watermarkLagMs);
  }
  return out;
}

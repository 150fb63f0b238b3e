#include "runtime/tap.h"

#include <algorithm>
#include <cmath>

#include "core/text.h"
#include "runtime/watermarks.h"

namespace weir {
namespace {

/// `s` as valid UTF-8 (each malformed byte becomes U+FFFD, so the row always serializes
/// as JSON), cut after at most `max` bytes of input at a character boundary and then
/// ending with the marker.
std::string truncated(std::string_view s, std::size_t max) {
  std::size_t used = 0;
  std::string out = toValidUtf8(s, max, &used);
  if (used < s.size()) out += kTruncationMarker;
  return out;
}

Value cellValue(const Column& c, std::size_t row, std::size_t maxString) {
  if (c.isNull(row)) return Value::null(c.type());
  switch (c.type()) {
    case Type::Int64: return Value::int64(c.int64(row));
    case Type::Timestamp: return Value::timestamp(c.int64(row));
    case Type::Double: return Value::dbl(c.dbl(row));
    case Type::Bool: return Value::boolean(c.boolean(row));
    case Type::String: return Value::string(truncated(c.str(row), maxString));
  }
  return Value::null(c.type());
}

}  // namespace

EdgeTap::EdgeTap(int edge, SchemaPtr schema, int producers, TapOptions options)
    : edge_(edge), schema_(std::move(schema)), options_(options) {
  options_.rowsPerSubtask = std::max(1, options_.rowsPerSubtask);
  for (int i = 0; i < std::max(1, producers); ++i) rings_.push_back(std::make_unique<Ring>());
}

void EdgeTap::enable(bool on) {
  if (on && !enabled_.load()) {
    for (auto& r : rings_) {
      std::lock_guard lock(r->mu);
      r->rows.clear();
      r->head = 0;
      r->lastCopyMs = 0;
    }
  }
  enabled_.store(on);
}

void EdgeTap::offer(int subtask, const RecordBatch& batch) {
  if (subtask < 0 || static_cast<std::size_t>(subtask) >= rings_.size() || batch.empty()) return;
  // A batch of another schema than the edge's (it never should be) is not copied.
  if (schema_ && batch.numColumns() != schema_->size()) return;
  Ring& r = *rings_[static_cast<std::size_t>(subtask)];
  const auto cap = static_cast<std::size_t>(options_.rowsPerSubtask);
  std::lock_guard lock(r.mu);
  const bool full = r.rows.size() >= cap;
  std::size_t first = 0, count = 0;
  const std::int64_t now = wallClockMs();
  if (options_.mode == TapMode::First) {
    if (full) return;
    count = std::min(cap - r.rows.size(), batch.numRows());
  } else {
    if (full && now - r.lastCopyMs < options_.sampleIntervalMs) return;
    count = std::min(cap, batch.numRows());
    first = batch.numRows() - count;  // the batch's latest rows
  }
  r.lastCopyMs = now;
  const std::size_t fields = batch.numColumns();
  for (std::size_t i = first; i < first + count; ++i) {
    TapRow row;
    row.values.reserve(fields);
    for (std::size_t f = 0; f < fields; ++f) row.values.push_back(cellValue(batch.column(f), i, options_.maxStringBytes));
    row.eventTime = batch.eventTime(i);
    row.kind = batch.kind(i);
    row.subtask = subtask;
    row.capturedMs = now;
    row.seq = seq_.fetch_add(1, std::memory_order_relaxed);
    if (r.rows.size() < cap) {
      r.rows.push_back(std::move(row));
    } else {
      r.rows[r.head] = std::move(row);
      r.head = (r.head + 1) % cap;
    }
  }
  copies_.fetch_add(static_cast<std::int64_t>(count), std::memory_order_relaxed);
}

TapSample EdgeTap::snapshot(std::size_t maxRows) const {
  TapSample s;
  s.edge = edge_;
  s.schema = schema_;
  s.enabled = enabled();
  s.subtasks = attached_.load(std::memory_order_relaxed);
  s.copies = copies();
  for (const auto& r : rings_) {
    std::lock_guard lock(r->mu);
    s.rows.insert(s.rows.end(), r->rows.begin(), r->rows.end());
  }
  std::sort(s.rows.begin(), s.rows.end(), [](const TapRow& a, const TapRow& b) {
    return a.capturedMs != b.capturedMs ? a.capturedMs < b.capturedMs : a.seq < b.seq;
  });
  if (s.rows.size() > maxRows) {
    if (options_.mode == TapMode::First) s.rows.resize(maxRows);
    else s.rows.erase(s.rows.begin(), s.rows.end() - static_cast<std::ptrdiff_t>(maxRows));
  }
  return s;
}

JobTaps::JobTaps(const JobPlan& plan, TapOptions options) {
  for (std::size_t e = 0; e < plan.edges.size(); ++e) {
    const PlanNode& from = plan.nodes[static_cast<std::size_t>(plan.edges[e].from)];
    taps_.push_back(std::make_unique<EdgeTap>(static_cast<int>(e), edgeSchema(plan, static_cast<int>(e)),
                                              from.parallelism, options));
  }
}

EdgeTap* JobTaps::edge(int edge) {
  return edge >= 0 && static_cast<std::size_t>(edge) < taps_.size() ? taps_[static_cast<std::size_t>(edge)].get()
                                                                    : nullptr;
}

const EdgeTap* JobTaps::edge(int edge) const { return const_cast<JobTaps*>(this)->edge(edge); }

SchemaPtr edgeSchema(const JobPlan& plan, int edge) {
  if (edge < 0 || static_cast<std::size_t>(edge) >= plan.edges.size()) return makeSchema({});
  const PlanEdge& e = plan.edges[static_cast<std::size_t>(edge)];
  const PlanNode& from = plan.nodes[static_cast<std::size_t>(e.from)];
  if (static_cast<std::size_t>(e.fromPort) < from.outputSchemas.size() && from.outputSchemas[static_cast<std::size_t>(e.fromPort)])
    return from.outputSchemas[static_cast<std::size_t>(e.fromPort)];
  return makeSchema({});
}

nlohmann::json valueToJson(const Value& v) {
  if (v.isNull()) return nullptr;
  switch (v.type()) {
    case Type::Int64: return v.asInt64();
    case Type::Double: {
      const double d = v.asDouble();
      if (std::isfinite(d)) return d;
      return formatDouble(d);
    }
    case Type::String: return v.asString();
    case Type::Bool: return v.asBool();
    case Type::Timestamp: return formatTimestamp(v.asInt64());
  }
  return nullptr;
}

nlohmann::json schemaToJson(const Schema& schema) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& f : schema.fields()) a.push_back({{"name", f.name}, {"type", std::string(typeName(f.type))}});
  return a;
}

nlohmann::json tapRowToJson(const Schema& schema, const TapRow& row) {
  nlohmann::json o = nlohmann::json::object();
  for (std::size_t i = 0; i < row.values.size(); ++i) {
    if (i < schema.size()) o[schema.field(i).name] = valueToJson(row.values[i]);
  }
  o["_event_time"] = row.eventTime == kNoTimestamp ? nlohmann::json(nullptr) : nlohmann::json(row.eventTime);
  o["_op"] = std::string(rowKindName(row.kind));
  o["_subtask"] = row.subtask;
  return o;
}

nlohmann::json tapSampleToJson(const TapSample& sample, std::size_t maxRows, bool withCaptureTime) {
  const Schema empty;
  const Schema& schema = sample.schema ? *sample.schema : empty;
  nlohmann::json rows = nlohmann::json::array();
  const std::size_t skip = sample.rows.size() > maxRows ? sample.rows.size() - maxRows : 0;
  for (std::size_t i = skip; i < sample.rows.size(); ++i) {
    nlohmann::json r = tapRowToJson(schema, sample.rows[i]);
    if (withCaptureTime) r["_at"] = sample.rows[i].capturedMs;
    rows.push_back(std::move(r));
  }
  return {{"edge", sample.edge}, {"enabled", sample.enabled}, {"schema", schemaToJson(schema)},
          {"rows", std::move(rows)}, {"subtasks", sample.subtasks}};
}

}  // namespace weir

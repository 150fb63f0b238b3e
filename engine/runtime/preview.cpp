#include "runtime/preview.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/validate.h"
#include "runtime/local_executor.h"
#include "runtime/planner.h"

namespace weir {
namespace {

/// Passes on the first `limit` records of the source it wraps, then reports EndOfInput.
class LimitedSource final : public SourceOperator {
 public:
  LimitedSource(std::unique_ptr<SourceOperator> inner, std::int64_t limit)
      : inner_(std::move(inner)), limit_(limit) {}

  void open(OperatorContext& ctx) override {
    Operator::open(ctx);
    inner_->open(ctx);
  }
  SourceStatus emitNext(Output& out) override {
    if (left() <= 0) return SourceStatus::EndOfInput;
    Cut cut(*this, out);
    const SourceStatus s = inner_->emitNext(cut);
    return left() <= 0 ? SourceStatus::EndOfInput : s;
  }
  void processWatermark(Watermark wm, Output& out) override {
    Cut cut(*this, out);
    inner_->processWatermark(wm, cut);
  }
  void finish(Output& out) override {
    Cut cut(*this, out);
    inner_->finish(cut);
  }
  std::int64_t processingDeadline() const override { return inner_->processingDeadline(); }
  void onProcessingTime(std::int64_t now, Output& out) override {
    Cut cut(*this, out);
    inner_->onProcessingTime(now, cut);
  }
  void close() override { inner_->close(); }

 private:
  std::int64_t left() const { return limit_ - emitted_; }

  /// The wrapped source's output: batches cut to what is left of the limit.
  class Cut final : public Output {
   public:
    Cut(LimitedSource& s, Output& out) : s_(s), out_(out) {}
    void collect(int port, RecordBatch batch) override {
      const std::int64_t left = s_.left();
      if (left <= 0 || batch.empty()) return;
      if (static_cast<std::int64_t>(batch.numRows()) > left) {
        std::vector<std::uint32_t> rows(static_cast<std::size_t>(left));
        for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::uint32_t>(i);
        batch = batch.select(rows);
      }
      s_.emitted_ += static_cast<std::int64_t>(batch.numRows());
      out_.collect(port, std::move(batch));
    }
    void emitWatermark(Watermark wm) override { out_.emitWatermark(wm); }
    void emitWatermarkStatus(WatermarkStatus st) override { out_.emitWatermarkStatus(st); }

   private:
    LimitedSource& s_;
    Output& out_;
  };

  std::unique_ptr<SourceOperator> inner_;
  std::int64_t limit_;
  std::int64_t emitted_ = 0;
};

/// Stands in for every sink: the runtime counts what reaches it; it writes nothing.
class PreviewSink final : public Operator {
 public:
  void processBatch(int, const RecordBatch&, Output&) override {}
};

/// The rows each subtask of a source may emit: the job's share of rowsPerSource.
std::int64_t perSubtask(int rowsPerSource, int parallelism) {
  const int p = std::max(1, parallelism);
  return std::max<std::int64_t>(1, (rowsPerSource + p - 1) / p);
}

/// `registry`'s factories for the types of `plan`, sources wrapped in a LimitedSource and
/// sinks replaced by a PreviewSink.
OperatorRegistry previewRegistry(const JobPlan& plan, const OperatorRegistry& registry, int rowsPerSource) {
  OperatorRegistry r;
  std::set<std::string> sinks, others;
  for (const auto& n : plan.nodes) (n.outputPorts.empty() ? sinks : others).insert(n.type);
  for (const auto& type : sinks)
    if (registry.find(type)) r.add(type, [](const OperatorContext&) { return std::make_unique<PreviewSink>(); });
  for (const auto& type : others) {
    if (sinks.count(type)) continue;
    const OperatorFactory* f = registry.find(type);
    if (!f) continue;  // the executor refuses the job, naming the node
    r.add(type, [inner = *f, rowsPerSource](const OperatorContext& ctx) -> std::unique_ptr<Operator> {
      std::unique_ptr<Operator> op = inner(ctx);
      if (auto* source = dynamic_cast<SourceOperator*>(op.get())) {
        op.release();
        return std::make_unique<LimitedSource>(std::unique_ptr<SourceOperator>(source),
                                               perSubtask(rowsPerSource, ctx.parallelism));
      }
      return op;
    });
  }
  return r;
}

/// Plan changes of the preview that need no wrapper: sources read little and end, filters
/// pass their whole input schema on.
void adjustPlan(JobPlan& plan, int rowsPerSource) {
  for (PlanNode& n : plan.nodes) {
    const std::int64_t limit = perSubtask(rowsPerSource, n.parallelism);
    if (n.type == "source.generator") {
      n.params["rate"] = 0;
      const std::int64_t events = n.params.value("events", std::int64_t{0});
      if (events == 0 || events > rowsPerSource) n.params["events"] = rowsPerSource;
    } else if (n.type == "source.file") {
      // Read no further than needed, so that only the first records' dead letters show.
      const std::int64_t batch = n.params.value("batch_size", std::int64_t{1024});
      n.params["batch_size"] = std::min(batch, limit);
      n.params["follow"] = false;
    }
  }
  for (std::size_t i = 0; i < plan.nodes.size(); ++i) {
    PlanNode& n = plan.nodes[i];
    if (!n.params.is_object() || !n.params.contains("_project")) continue;
    n.params.erase("_project");
    n.outputSchemas[0] = n.inputSchemas[0];
    for (const PlanEdge& e : plan.edges)
      if (e.from == static_cast<int>(i))
        plan.nodes[static_cast<std::size_t>(e.to)].inputSchemas[static_cast<std::size_t>(e.toPort)] = n.outputSchemas[0];
  }
}

}  // namespace

PreviewResult previewJob(const JobGraph& input, const PreviewOptions& options) {
  PreviewResult res;
  const OperatorRegistry& registry = options.registry ? *options.registry : OperatorRegistry::builtin();
  const int rowsPerSource = std::max(1, options.rowsPerSource);
  const int rowsPerEdge = std::max(1, options.rowsPerEdge);

  Diagnostics diags;
  ValidatedJob v = validateJob(input, diags);
  if (!v.ok || !diags.empty()) {
    res.diagnostics = diags;
    res.error = diags.empty() ? "job: does not validate" : diags.front().toString();
    if (diags.size() > 1) res.error += " (and " + std::to_string(diags.size() - 1) + " more)";
    return res;
  }
  // Sources as one subtask, so that "the first N records" means what it says. A job whose
  // edges need the source's parallelism (a forced forward edge) keeps it.
  JobGraph job = input;
  bool changed = false;
  for (std::size_t i = 0; i < v.nodes.size(); ++i)
    if (v.nodes[i].inputPorts.empty() && v.nodes[i].parallelism != 1) {
      job.nodes[i].parallelism = 1;
      changed = true;
    }
  if (changed) {
    Diagnostics again;
    ValidatedJob v1 = validateJob(job, again);
    if (v1.ok && again.empty()) v = std::move(v1);
    else job = input;
  }

  try {
    JobPlan plan = planJob(job, v);
    adjustPlan(plan, rowsPerSource);
    const OperatorRegistry runRegistry = previewRegistry(plan, registry, rowsPerSource);
    ExecutorOptions eo;
    eo.taps.mode = TapMode::First;
    eo.taps.rowsPerSubtask = rowsPerEdge;
    eo.taps.maxStringBytes = options.maxStringBytes;
    eo.deadLettersInMemory = std::max<std::size_t>(1, options.maxDeadLetters);
    LocalExecutor ex(std::move(plan), eo, runRegistry);
    for (std::size_t e = 0; e < ex.plan().edges.size(); ++e) ex.enableTap(static_cast<int>(e), true);
    ex.start();
    if (!ex.waitFor(options.timeout)) {
      res.timedOut = true;
      ex.cancel();
    }
    ex.wait();
    res.failure = ex.failure();
    if (res.failure) res.error = res.failure->toString();

    const JobMetrics m = ex.metrics();
    std::map<std::string, const NodeMetrics*> byId;
    for (const auto& n : m.nodes) byId[n.id] = &n;
    for (const auto& gn : job.nodes) {
      PreviewNode pn;
      pn.id = gn.id;
      pn.type = gn.type;
      if (auto it = byId.find(gn.id); it != byId.end()) {
        const NodeMetrics& nm = *it->second;
        pn.parallelism = nm.parallelism;
        pn.recordsIn = nm.recordsIn;
        pn.recordsOut = nm.recordsOut;
        pn.deadLetters = nm.deadLetters;
        pn.lateRecords = nm.lateRecords;
      }
      res.nodes.push_back(std::move(pn));
    }
    // Every edge of a valid job is a plan edge, in the same order (planner.cpp).
    for (std::size_t e = 0; e < ex.plan().edges.size() && e < job.edges.size(); ++e) {
      const EdgeMetrics& em = m.edges[e];
      PreviewEdge pe;
      pe.edge = static_cast<int>(e);
      pe.from = em.from;
      pe.fromPort = em.fromPort;
      pe.to = em.to;
      pe.toPort = em.toPort;
      TapSample s = *ex.tapSnapshot(static_cast<int>(e), static_cast<std::size_t>(rowsPerEdge));
      pe.schema = s.schema;
      pe.rows = std::move(s.rows);
      pe.records = em.recordsSent;
      res.edges.push_back(std::move(pe));
    }
    res.deadLetters = ex.deadLetters().kept();
    res.deadLetterCount = ex.deadLetters().count();
  } catch (const std::exception& e) {
    res.error = std::string("job: preview failed: ") + e.what();
    return res;
  }
  res.ok = !res.failure;
  return res;
}

nlohmann::json previewToJson(const PreviewResult& r) {
  using nlohmann::json;
  json diags = json::array();
  for (const auto& d : r.diagnostics) diags.push_back({{"node", d.node}, {"path", d.path}, {"message", d.message}});
  json nodes = json::array();
  for (const auto& n : r.nodes)
    nodes.push_back({{"id", n.id}, {"type", n.type}, {"parallelism", n.parallelism}, {"records_in", n.recordsIn},
                     {"records_out", n.recordsOut}, {"dead_letters", n.deadLetters}, {"late_records", n.lateRecords}});
  json edges = json::array();
  for (const auto& e : r.edges) {
    const Schema empty;
    const Schema& schema = e.schema ? *e.schema : empty;
    json rows = json::array();
    for (const auto& row : e.rows) rows.push_back(tapRowToJson(schema, row));
    edges.push_back({{"edge", e.edge}, {"from", e.from}, {"from_port", e.fromPort}, {"to", e.to},
                     {"to_port", e.toPort}, {"schema", schemaToJson(schema)}, {"rows", std::move(rows)},
                     {"records", e.records}});
  }
  json out = {{"ok", r.ok}, {"error", r.error.empty() ? json(nullptr) : json(r.error)}, {"timed_out", r.timedOut},
              {"diagnostics", diags}, {"nodes", nodes}, {"edges", edges},
              {"dead_letters", r.deadLetters}, {"dead_letter_count", r.deadLetterCount}};
  if (r.failure)
    out["failure"] = {{"node", r.failure->node}, {"subtask", r.failure->subtask}, {"message", r.failure->message}};
  return out;
}

}  // namespace weir

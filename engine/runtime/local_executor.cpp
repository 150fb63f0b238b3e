#include "runtime/local_executor.h"

#include "runtime/execution_graph.h"
#include "runtime/watermarks.h"

#include <map>

namespace weir {

std::string_view jobStatusName(JobStatus s) {
  switch (s) {
    case JobStatus::Created: return "CREATED";
    case JobStatus::Running: return "RUNNING";
    case JobStatus::Finished: return "FINISHED";
    case JobStatus::Failed: return "FAILED";
    case JobStatus::Canceled: return "CANCELED";
  }
  return "?";
}

LocalExecutor::LocalExecutor(JobPlan plan, ExecutorOptions options, const OperatorRegistry& registry)
    : plan_(std::move(plan)), options_(options), registry_(registry) {
  if (options_.deadLettersInMemory > 0) deadLetters_ = DeadLetterSink::inMemory(options_.deadLettersInMemory);
  else deadLetters_ = std::make_unique<DeadLetterSink>(plan_.deadLetterPath);
  taps_ = std::make_unique<JobTaps>(plan_, options_.taps);
  if (plan_.checkpointing()) {
    if (options_.checkpointDir.empty()) options_.checkpointDir = plan_.baseDir / ".weir-checkpoints" / plan_.name;
    uploader_ = std::make_unique<SnapshotUploader>();
  }
  build();
}

LocalExecutor::~LocalExecutor() {
  cancel();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  if (coordinatorThread_.joinable()) coordinatorThread_.join();
  uploader_.reset();  // finishes queued writes, which may still acknowledge
}

void LocalExecutor::build() {
  const ExecutionGraph graph = ExecutionGraph::build(plan_);
  SubtaskWiring wiring;
  wiring.runsHere = [](int, int) { return true; };
  wiring.writer = [](const ExecutionChannel& ch, Subtask* consumer) -> std::unique_ptr<ChannelWriter> {
    return std::make_unique<LocalChannelWriter>(*consumer->gate(), ch.gateChannel);
  };
  auto built = buildSubtasks(plan_, graph, options_.queueCapacity, registry_, deadLetters_.get(), wiring);
  for (std::size_t v = 0; v < built.size(); ++v)
    for (auto& st : built[v]) {
      subtaskIds_.emplace_back(graph.vertices[v].id, st->index());
      subtasks_.push_back(std::move(st));
    }
  for (auto& st : subtasks_) st->attachTaps(*taps_);
  if (!plan_.checkpointing()) return;
  const CheckpointSettings settings = CheckpointSettings::fromJson(plan_.checkpoint);
  for (std::size_t i = 0; i < subtasks_.size(); ++i) {
    SubtaskCheckpointing cp;
    cp.exactlyOnce = settings.exactlyOnce;
    cp.vertex = subtaskIds_[i].first;
    cp.jobDir = options_.checkpointDir;
    cp.responder = this;
    cp.uploader = uploader_.get();
    cp.restore = options_.restore.get();
    subtasks_[i]->setCheckpointing(std::move(cp));
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.checkpointDir, ec);
  const std::int64_t firstId = options_.restore ? options_.restore->metadata.id + 1 : 1;
  coordinator_ = std::make_unique<CheckpointCoordinator>(settings, plan_, checkpointTasks(graph), options_.checkpointDir,
                                                         plan_.name, 1, firstId, options_.restore.get());
}

void LocalExecutor::acknowledge(const SubtaskAck& ack) {
  std::lock_guard lock(mu_);
  events_.push_back([this, ack](std::int64_t now) {
    std::vector<CheckpointCoordinator::Outcome> aborted;
    if (auto o = coordinator_->acknowledge(ack, now, aborted)) carryOut(*o);
    for (const auto& a : aborted) carryOut(a);
  });
}

void LocalExecutor::decline(const SubtaskAck& who, const std::string& reason) {
  std::lock_guard lock(mu_);
  events_.push_back([this, id = who.checkpointId, reason](std::int64_t now) {
    if (auto o = coordinator_->decline(id, reason, now)) carryOut(*o);
  });
}

void LocalExecutor::carryOut(const CheckpointCoordinator::Outcome& o) {
  for (auto& st : subtasks_) {
    if (o.completed) st->notifyCheckpointComplete(o.id);
    else st->notifyCheckpointAborted(o.id);
  }
}

void LocalExecutor::coordinate() {
  for (;;) {
    std::vector<std::function<void(std::int64_t)>> events;
    bool ended;
    {
      std::unique_lock lock(mu_);
      done_.wait_for(lock, std::chrono::milliseconds(5), [&] { return running_ == 0 || !events_.empty(); });
      events.swap(events_);
      ended = running_ == 0;
    }
    const std::int64_t now = wallClockMs();
    for (auto& e : events) e(now);
    if (ended) {
      coordinator_->abortAll("the job ended", now);
    } else if (!canceled_.load()) {
      std::vector<CheckpointCoordinator::Outcome> aborted;
      if (auto t = coordinator_->tick(now, aborted)) {
        for (const auto& target : t->targets)
          for (std::size_t i = 0; i < subtasks_.size(); ++i)
            if (subtaskIds_[i].first == target.vertex && subtaskIds_[i].second == target.subtask)
              subtasks_[i]->triggerCheckpoint(t->id, t->timestamp);
      }
      for (const auto& a : aborted) carryOut(a);
    }
    {
      std::lock_guard lock(mu_);
      checkpointHistory_ = coordinator_->history();
      latestCheckpoint_ = coordinator_->latestCompleted();
    }
    if (ended) return;
  }
}

std::vector<CheckpointRecord> LocalExecutor::checkpoints() const {
  std::lock_guard lock(mu_);
  return checkpointHistory_;
}

std::int64_t LocalExecutor::latestCheckpoint() const {
  std::lock_guard lock(mu_);
  return latestCheckpoint_;
}

bool LocalExecutor::enableTap(int edge, bool on) {
  EdgeTap* tap = taps_->edge(edge);
  if (!tap) return false;
  tap->enable(on);
  return true;
}

std::optional<TapSample> LocalExecutor::tapSnapshot(int edge, std::size_t maxRows) const {
  const EdgeTap* tap = taps_->edge(edge);
  if (!tap) return std::nullopt;
  return tap->snapshot(maxRows);
}

void LocalExecutor::start() {
  {
    std::lock_guard lock(mu_);
    if (status_ != JobStatus::Created) return;  // canceled before it started, or started
    // Every operator must be runnable before any starts: a job that cannot run must not
    // open (and truncate) a single output file.
    for (const auto& n : plan_.nodes) {
      if (registry_.find(n.type)) continue;
      failure_ = SubtaskFailure{n.id, 0, n.parallelism,
                                "operator type '" + n.type + "' cannot run yet in this version"};
      status_ = JobStatus::Failed;
      return;
    }
    // A dead-letter file from an earlier run must not pass for this run's.
    std::error_code ec;
    if (!deadLetters_->isInMemory()) std::filesystem::remove(plan_.deadLetterPath, ec);
    status_ = JobStatus::Running;
    running_ = static_cast<int>(subtasks_.size());
    if (running_ == 0) status_ = JobStatus::Finished;
  }
  for (auto& st : subtasks_) {
    Subtask* task = st.get();
    threads_.emplace_back([this, task] {
      task->run(canceled_, [this](const SubtaskFailure& f) { onFailure(f); });
      onSubtaskDone(task, canceled_.load());
    });
  }
  if (coordinator_) coordinatorThread_ = std::thread([this] { coordinate(); });
}

void LocalExecutor::onFailure(const SubtaskFailure& f) {
  {
    std::lock_guard lock(mu_);
    if (!failure_ && status_ == JobStatus::Running) {
      failure_ = f;
      status_ = JobStatus::Failed;
    }
  }
  canceled_.store(true);
  for (auto& st : subtasks_)
    if (st->gate()) st->gate()->cancel();
}

void LocalExecutor::onSubtaskDone(Subtask* task, bool stopped) {
  std::lock_guard lock(mu_);
  if (coordinator_ && !stopped) {
    // It finished and its end is covered by a completed checkpoint: later checkpoints
    // count it with that snapshot.
    std::string vertex;
    for (std::size_t i = 0; i < subtasks_.size(); ++i)
      if (subtasks_[i].get() == task) vertex = subtaskIds_[i].first;
    events_.push_back([this, vertex, index = task->index()](std::int64_t now) {
      for (const auto& o : coordinator_->subtaskLeft(vertex, index, now)) carryOut(o);
    });
  }
  if (--running_ == 0) {
    if (status_ == JobStatus::Running) status_ = JobStatus::Finished;
    done_.notify_all();
  }
}

bool LocalExecutor::waitFor(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return done_.wait_for(lock, timeout, [&] { return running_ == 0; });
}

void LocalExecutor::wait() {
  {
    std::unique_lock lock(mu_);
    done_.wait(lock, [&] { return running_ == 0; });
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  if (coordinatorThread_.joinable()) coordinatorThread_.join();
}

void LocalExecutor::cancel() {
  canceled_.store(true);
  {
    std::lock_guard lock(mu_);
    if (status_ == JobStatus::Running || status_ == JobStatus::Created) status_ = JobStatus::Canceled;
    if (running_ == 0) return;  // nothing started, or everything has ended
  }
  for (auto& st : subtasks_)
    if (st->gate()) st->gate()->cancel();
}

JobStatus LocalExecutor::status() const {
  std::lock_guard lock(mu_);
  // Until every thread has left, a canceled/failed job is still stopping; report the end
  // state anyway: no new work starts after it is set.
  return status_;
}

std::optional<SubtaskFailure> LocalExecutor::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

JobMetrics LocalExecutor::metrics() const {
  std::vector<const Subtask*> all;
  all.reserve(subtasks_.size());
  for (const auto& st : subtasks_) all.push_back(st.get());
  return collectMetrics(plan_, all);
}

JobMetrics collectMetrics(const JobPlan& plan, const std::vector<const Subtask*>& subtasks) {
  JobMetrics m;
  std::map<std::string, std::size_t> index;
  for (const auto& n : plan.nodes) {
    index[n.id] = m.nodes.size();
    m.nodes.push_back(NodeMetrics{n.id, n.type, n.parallelism});
  }
  const ExecutionGraph graph = ExecutionGraph::build(plan);
  std::vector<bool> chainedEdge(plan.edges.size(), false);
  for (std::size_t e = 0; e < plan.edges.size(); ++e) {  // both ends in one vertex: a direct call
    const int v = graph.vertexOfNode[static_cast<std::size_t>(plan.edges[e].to)];
    chainedEdge[e] = graph.vertices[static_cast<std::size_t>(v)].nodes.front() != plan.edges[e].to;
  }
  for (std::size_t e = 0; e < plan.edges.size(); ++e) {
    const PlanEdge& pe = plan.edges[e];
    const PlanNode& a = plan.nodes[static_cast<std::size_t>(pe.from)];
    const PlanNode& b = plan.nodes[static_cast<std::size_t>(pe.to)];
    EdgeMetrics em;
    em.edge = static_cast<int>(e);
    em.from = a.id;
    em.fromPort = static_cast<std::size_t>(pe.fromPort) < a.outputPorts.size() ? a.outputPorts[static_cast<std::size_t>(pe.fromPort)] : "out";
    em.to = b.id;
    em.toPort = static_cast<std::size_t>(pe.toPort) < b.inputPorts.size() ? b.inputPorts[static_cast<std::size_t>(pe.toPort)] : "in";
    em.partition = std::string(partitionName(pe.partition));
    em.chained = chainedEdge[e];
    m.edges.push_back(std::move(em));
  }
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch()).count();
  for (const Subtask* st : subtasks) {
    SubtaskMetricsView v;
    for (std::size_t i = 0; i < st->chainLength(); ++i) {
      const auto& c = st->counters(i);
      const PlanNode& node = st->node(i);
      NodeMetrics om{node.id, node.type, node.parallelism};
      om.recordsIn = c.recordsIn.load(std::memory_order_relaxed);
      om.recordsOut = c.recordsOut.load(std::memory_order_relaxed);
      om.bytesIn = c.bytesIn.load(std::memory_order_relaxed);
      om.bytesOut = c.bytesOut.load(std::memory_order_relaxed);
      om.deadLetters = c.deadLetters.load(std::memory_order_relaxed);
      om.lateRecords = c.lateRecords.load(std::memory_order_relaxed);
      auto& nm = m.nodes[index.at(node.id)];
      nm.recordsIn += om.recordsIn;
      nm.recordsOut += om.recordsOut;
      nm.bytesIn += om.bytesIn;
      nm.bytesOut += om.bytesOut;
      nm.deadLetters += om.deadLetters;
      nm.lateRecords += om.lateRecords;
      v.operators.push_back(std::move(om));
    }
    const auto& sm = st->metrics();
    v.chain = st->name();
    v.subtask = st->index();
    const std::int64_t start = sm.startNs.load();
    std::int64_t end = sm.endNs.load();
    if (end == 0) end = now;
    const double total = start ? static_cast<double>(end - start) / 1e6 : 0;
    v.idleMs = static_cast<double>(sm.idleNs.load()) / 1e6;
    v.backpressuredMs = static_cast<double>(sm.backpressuredNs.load()) / 1e6;
    v.busyMs = std::max(0.0, total - v.idleMs - v.backpressuredMs);
    v.inputWatermark = sm.inputWatermark.load();
    v.outputWatermark = sm.outputWatermark.load();
    v.outputUsage = st->outputUsage();
    if (const InputGate* g = st->gate()) {
      v.inputUsage = g->usage();
      v.maxQueued = g->maxQueuedSeen();
    }
    v.edgesOut = st->edgesOut();
    v.edgesIn = st->edgesIn();
    for (const auto& t : v.edgesOut) {
      auto& em = m.edges[static_cast<std::size_t>(t.edge)];
      em.recordsSent += t.records;
      em.bytesSent += t.bytes;
    }
    for (const auto& t : v.edgesIn) {
      auto& em = m.edges[static_cast<std::size_t>(t.edge)];
      em.recordsReceived += t.records;
      em.bytesReceived += t.bytes;
    }
    m.subtasks.push_back(std::move(v));
  }
  for (const auto& n : m.nodes) m.deadLetters += n.deadLetters;
  return m;
}

}  // namespace weir

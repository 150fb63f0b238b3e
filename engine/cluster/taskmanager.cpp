// weir-taskmanager: registers with a JobManager, offers slots, runs the subtasks it is
// given, exchanges data with other TaskManagers (net::Transport) and reports subtask
// states (docs/protocol.md, "Control plane"; docs/operations.md for the flags).
//
// Threads: the io thread runs the control connection (register, heartbeats, deploy and
// cancel messages); a deploy is wired on its own thread (connecting to peers blocks);
// every subtask runs on its own thread, as in the LocalExecutor; the Transport has its
// own network thread.

#include "cluster/control.h"
#include "cluster/daemon_args.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cluster/plan_json.h"
#include "cluster/plugin_ship.h"
#include "net/transport.h"
#include "core/text.h"
#include "runtime/dead_letter.h"
#include "runtime/execution_graph.h"
#include "runtime/local_executor.h"
#include "runtime/registry.h"
#include "runtime/tap.h"
#include "runtime/task.h"

namespace weir::cluster {
namespace {

using asio::use_awaitable;
using boost::system::error_code;
using nlohmann::json;

/// Reconnecting: handshakes in a row that the JobManager accepted and then closed without
/// a word before the TaskManager takes it as a refusal (a dying JobManager does it once or
/// twice; one that refuses this TaskManager's TLS does it every time).
constexpr int kHangUpsBeforeRefusal = 3;

struct Flags {
  std::string jobmanager;
  int slots = 1;
  std::string bind = "127.0.0.1";
  int dataPort = 0;
  std::string secretFile;
  std::string name;
  int heartbeatMs = 1000;
  int connectTimeoutMs = 30000;
  net::TlsFiles tls;  // --tls-cert/--tls-key/--tls-ca: TLS to the JobManager and to peers, and on the data port
  std::string dataDir = ".";  // working files: plugin-cache/ (cluster/plugin_ship.h)
};

[[noreturn]] void usageExit(const std::string& why) {
  if (!why.empty()) std::cerr << "weir-taskmanager: " << why << "\n";
  std::cerr << "usage: weir-taskmanager --jobmanager HOST:PORT --slots N [--bind ADDR] [--data-port P]\n"
               "                        [--secret-file F] [--name NAME] [--heartbeat-interval-ms MS]\n"
               "                        [--connect-timeout-ms MS] [--tls-cert F --tls-key F --tls-ca F]\n"
               "                        [--data-dir DIR] [--config F.json]\n";
  std::exit(2);
}


/// Elements (batches or events) each input channel of a subtask holds, which is also the
/// credit its producer starts with (docs/protocol.md). Across processes a credit comes back
/// only after a round trip, so a window of 4 (the in-process default) kept producers
/// waiting for credit while their consumers idled: top-bids at 200,000 bids/s showed its
/// sources backpressured ~620 ms/s with the windows ~90% idle; 8 gave ~230 ms/s, 16 ~65.
constexpr int kNetworkQueueCapacity = 16;

/// The node name of a data connection's peer ("name (host:port)" -> "name").
std::string peerNodeName(const std::string& peer) {
  const auto p = peer.rfind(" (");
  return p == std::string::npos ? peer : peer.substr(0, p);
}

struct LocalSubtask {
  int vertex = 0;  // index into the attempt's ExecutionGraph::vertices
  std::unique_ptr<Subtask> task;
};

/// One attempt of one job on this TaskManager: from its `deploy` until every subtask has
/// stopped, its threads are joined and its channels released (reap); then the JobManager
/// hears `attempt_ended` and gives its slots to whatever comes next.
struct RunningJob {
  std::string id;
  int attempt = 0;
  net::AttemptKey key;
  JobPlan plan;
  ExecutionGraph graph;
  std::unique_ptr<DeadLetterSink> deadLetters;
  std::unique_ptr<JobTaps> taps;  // one per plan edge; created by setup (under mu)
  std::unique_ptr<RestoreSource> restore;  // the checkpoint this attempt restores from, if any
  std::set<int> tapsWanted;       // edges enabled before setup created the taps (under mu)
  std::vector<LocalSubtask> subtasks;
  std::vector<net::NetworkChannelWriter*> netWriters;
  std::vector<std::thread> threads;
  std::atomic<bool> canceled{false};
  std::atomic<bool> started{false};  // every subtask wired (their threads start right after)
  std::atomic<int> running{0};       // subtask threads not yet ended
  std::atomic<int> unreported{0};    // subtask threads that have not yet sent their final state
  bool finalReported = false;        // io thread: the metrics after the last subtask ended were sent
  std::thread setup;
  std::mutex mu;

  void cancel() {
    canceled.store(true);
    std::lock_guard lock(mu);
    for (auto& s : subtasks)
      if (s.task && s.task->gate()) s.task->gate()->cancel();
    for (auto* w : netWriters) w->cancel();
  }
};

class TaskManager final : private CheckpointResponder {
 public:
  TaskManager(Flags flags, std::string secret)
      : flags_(std::move(flags)), secret_(std::move(secret)), signals_(io_, SIGINT, SIGTERM) {}

  int run() {
    if (!flags_.name.empty()) name_ = flags_.name;
    else {
      char host[256] = {0};
      gethostname(host, sizeof host - 1);
      name_ = std::string(host) + "-" + std::to_string(getpid());
    }
    net::TransportOptions to;
    to.nodeName = name_;
    to.secret = secret_;
    to.tls = flags_.tls;
    if (flags_.tls.enabled()) controlTls_ = net::makeDaemonTlsContext(flags_.tls, net::TlsRole::Client);
    to.log = [](std::string_view line) { logLine("info", "transport", std::string(line)); };
    transport_ = std::make_unique<net::Transport>(to);
    uploader_ = std::make_unique<SnapshotUploader>();
    transport_->setOnConnection([this](const net::ConnectionPtr& c) { onPeer(c); });
    dataPort_ = transport_->listen(flags_.bind, static_cast<std::uint16_t>(flags_.dataPort));
    logLine("info", "taskmanager", "data plane listening", {{"name", name_}, {"bind", flags_.bind}, {"port", dataPort_}});
    signals_.async_wait([this](const error_code& ec, int sig) {
      if (ec) return;
      logLine("info", "taskmanager", "signal received, shutting down", {{"signal", sig}});
      stopping_ = true;
      if (jm_) jm_->close();
      io_.stop();
    });
    asio::co_spawn(io_, session(), asio::detached);
    runIo();
    shutdown();
    return exitCode_;
  }

 private:
  /// Runs the io thread until it is stopped. A handler that throws (a message it could not
  /// handle) is logged and the loop goes on: no exception ends the process with subtask
  /// threads still running (which would be std::terminate, and every job here lost).
  void runIo() {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        logLine("error", "taskmanager", std::string("io thread: ") + e.what());
      }
    }
  }

  /// A subtask's part of a checkpoint is written (uploader thread): tell the JobManager.
  void acknowledge(const SubtaskAck& ack) override {
    json m{{"type", "checkpoint_ack"}, {"job", ack.job}, {"attempt", ack.attempt}, {"ack", ack.toJson()}};
    asio::post(io_, [this, m] {
      if (jm_) jm_->send(m);
    });
  }
  void decline(const SubtaskAck& who, const std::string& reason) override {
    json m{{"type", "checkpoint_decline"}, {"job", who.job},         {"attempt", who.attempt},
           {"checkpoint", who.checkpointId}, {"vertex", who.vertex}, {"subtask", who.subtask},
           {"reason", toValidUtf8(reason)}};
    asio::post(io_, [this, m] {
      if (jm_) jm_->send(m);
    });
  }

  /// `trigger_checkpoint` (to the source subtasks it names), `checkpoint_complete` and
  /// `checkpoint_aborted` (to every subtask of the attempt here): into their mailboxes.
  void onCheckpointMessage(const std::string& type, const json& msg) {
    std::shared_ptr<RunningJob> job = findJob(msg);
    if (!job) return;
    const std::int64_t id = msg.value("checkpoint", std::int64_t{-1});
    std::lock_guard lock(job->mu);
    if (type == "trigger_checkpoint") {
      const std::int64_t ts = msg.value("timestamp", std::int64_t{0});
      for (const auto& t : msg.value("targets", json::array())) {
        if (!t.is_object()) continue;
        const int v = job->graph.vertexIndex(t.value("vertex", ""));
        const int index = t.value("subtask", -1);
        for (auto& ls : job->subtasks)
          if (ls.vertex == v && ls.task->index() == index) ls.task->triggerCheckpoint(id, ts);
      }
      return;
    }
    for (auto& ls : job->subtasks) {
      if (type == "checkpoint_complete") ls.task->notifyCheckpointComplete(id);
      else ls.task->notifyCheckpointAborted(id);
    }
  }

  void onPeer(const net::ConnectionPtr& c) {
    std::lock_guard lock(peersMu_);
    peers_[peerNodeName(c->peerName())] = c;
    peersChanged_.notify_all();
  }

  /// Connects to the JobManager, registers and serves its messages. When the JobManager
  /// goes away (it crashed, or is restarting), every subtask here is canceled (their jobs
  /// died with it) and the TaskManager connects and registers again, retrying for
  /// --connect-timeout-ms as at start; only then does it give up and exit 1.
  awaitable<void> session() {
    const auto colon = flags_.jobmanager.rfind(':');
    const std::string host = flags_.jobmanager.substr(0, colon);
    const std::string port = flags_.jobmanager.substr(colon + 1);
    tcp::resolver resolver(io_);
    for (bool first = true;; first = false) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(flags_.connectTimeoutMs);
      std::string err;
      std::shared_ptr<ControlConnection> conn;
      int hangUps = 0;  // accepted, then closed before the handshake ended, in a row
      for (;;) {
        tcp::socket socket(io_);
        error_code ec;
        auto results = co_await resolver.async_resolve(host, port, asio::redirect_error(use_awaitable, ec));
        if (!ec) co_await asio::async_connect(socket, results, asio::redirect_error(use_awaitable, ec));
        err.clear();
        if (!ec) {
          ControlOptions options{"weir", name_, secret_};
          options.tls = controlTls_;
          conn = std::make_shared<ControlConnection>(std::move(socket), std::move(options));
          err = co_await conn->clientHandshake();
          if (err.empty()) break;
          // A JobManager that just died may still accept (its listening socket outlives
          // it for a moment) and then hang up: when reconnecting, that is no refusal. One
          // that keeps hanging up on us is refusing (a TLS mismatch closes without a word).
          if (first || !conn->peerHungUp() || ++hangUps > kHangUpsBeforeRefusal) {
            logLine("error", "taskmanager", "JobManager refused the connection", {{"reason", err}});
            exitCode_ = 1;
            io_.stop();
            co_return;
          }
        }
        if (stopping_) co_return;
        if (std::chrono::steady_clock::now() > deadline) {
          logLine("error", "taskmanager", first ? "cannot reach the JobManager" : "cannot reach the JobManager again",
                  {{"jobmanager", flags_.jobmanager}, {"error", ec ? ec.message() : err}});
          exitCode_ = 1;
          io_.stop();
          co_return;
        }
        if (ec) hangUps = 0;  // nothing accepted this time
        asio::steady_timer t(io_, std::chrono::milliseconds(300));
        co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
      }
      // Only now the JobManager connection: what report() posted meanwhile went to the old
      // one (closed), never ahead of `register` on this one.
      jm_ = conn;
      jm_->start();
      if (!first) {
        // Attempts of the lost JobManager's that never reached this TaskManager may still have
        // channels here (a peer's credit came first): nothing will end them but this.
        std::set<net::AttemptKey> live;
        {
          std::lock_guard lock(jobsMu_);
          for (const auto& [key, job] : jobs_) live.insert(key);
        }
        if (const std::size_t n = transport_->releaseAllBut(live))
          logLine("info", "taskmanager", "released channels of attempts never deployed here", {{"attempts", n}});
      }
      jm_->send({{"type", "register"}, {"name", name_}, {"slots", flags_.slots}, {"data_host", flags_.bind},
                 {"data_port", dataPort_}, {"plugin_hashes", cachedPluginHashes(pluginCache())}});
      if (!first) logLine("info", "taskmanager", "registered with the JobManager again", {{"name", name_}});
      asio::co_spawn(io_, heartbeats(jm_), asio::detached);
      for (;;) {
        auto msg = co_await jm_->receive(err);
        if (!msg) break;
        handle(*msg);
      }
      if (stopping_ || exitCode_ != 0) break;
      logLine("warn", "taskmanager", "lost the JobManager; canceling every subtask and connecting again",
              {{"reason", err}, {"retry_ms", flags_.connectTimeoutMs}});
      abandonJobs();
    }
    io_.stop();
  }

  /// The JobManager that deployed them is gone: cancel every subtask here and stop
  /// reporting on their jobs (io thread). Their threads end by themselves and are joined
  /// at shutdown.
  void abandonJobs() {
    std::lock_guard lock(jobsMu_);
    for (auto& [id, job] : jobs_) {
      job->cancel();
      job->finalReported = true;
    }
  }

  /// Heartbeats and metrics on `conn` while it is open and still the JobManager connection.
  awaitable<void> heartbeats(std::shared_ptr<ControlConnection> conn) {
    asio::steady_timer t(io_);
    while (conn->isOpen() && conn == jm_) {
      const net::TransportCounts wired = transport_->counts();
      std::size_t attempts;
      {
        std::lock_guard lock(jobsMu_);
        attempts = jobs_.size();
      }
      jm_->send({{"type", "heartbeat"}, {"channels", wired.inputs + wired.outputs}, {"attempts", attempts}});
      sendMetrics();
      sendTapSamples();
      t.expires_after(std::chrono::milliseconds(flags_.heartbeatMs));
      error_code ec;
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }

  /// One `metrics` message per job with subtasks here (io thread): the counters, times,
  /// queue usage and watermarks of each, as LocalExecutor::metrics() computes them. A job
  /// whose subtasks have all ended is reported once more, then no longer.
  void sendMetrics() {
    std::vector<std::shared_ptr<RunningJob>> jobs;
    {
      std::lock_guard lock(jobsMu_);
      for (auto& [id, j] : jobs_) jobs.push_back(j);
    }
    const auto atMs = static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::steady_clock::now().time_since_epoch()).count()) / 1000.0;
    for (auto& job : jobs) {
      if (!job->started.load() || job->finalReported) continue;
      const bool ended = job->running.load() == 0;
      std::vector<const Subtask*> tasks;
      std::vector<std::string> vertices;
      JobMetrics m;
      {
        std::lock_guard lock(job->mu);
        for (const auto& ls : job->subtasks) {
          tasks.push_back(ls.task.get());
          vertices.push_back(job->graph.vertices[static_cast<std::size_t>(ls.vertex)].id);
        }
        m = collectMetrics(job->plan, tasks);
      }
      json rows = json::array();
      for (std::size_t i = 0; i < m.subtasks.size(); ++i) {
        const SubtaskMetricsView& v = m.subtasks[i];
        json ops = json::array();
        for (const auto& o : v.operators)
          ops.push_back({{"node", o.id}, {"records_in", o.recordsIn}, {"records_out", o.recordsOut},
                         {"bytes_in", o.bytesIn}, {"bytes_out", o.bytesOut}, {"dead_letters", o.deadLetters},
                         {"late_records", o.lateRecords}});
        auto traffic = [](const std::vector<EdgeTraffic>& list) {
          json a = json::array();
          for (const auto& t : list) a.push_back({{"edge", t.edge}, {"records", t.records}, {"bytes", t.bytes}});
          return a;
        };
        rows.push_back({{"vertex", vertices[i]}, {"subtask", v.subtask}, {"name", v.chain}, {"busy_ms", v.busyMs},
                        {"backpressured_ms", v.backpressuredMs}, {"idle_ms", v.idleMs},
                        {"input_usage", v.inputUsage}, {"output_usage", v.outputUsage}, {"max_queued", v.maxQueued},
                        {"input_watermark", v.inputWatermark}, {"output_watermark", v.outputWatermark},
                        {"operators", ops}, {"edges_out", traffic(v.edgesOut)}, {"edges_in", traffic(v.edgesIn)}});
      }
      jm_->send({{"type", "metrics"}, {"job", job->id}, {"attempt", job->attempt}, {"at_ms", atMs}, {"subtasks", rows}});
      if (ended) job->finalReported = true;
    }
  }

  /// One `tap_sample` message per enabled tap of a running job with producing subtasks
  /// here (io thread): the rows its local producers copied, newest last, at most
  /// kTapRowsPerMessage, each with "_at" (capture wall ms) for the JobManager's merge.
  void sendTapSamples() {
    constexpr std::size_t kTapRowsPerMessage = 200;
    std::vector<std::shared_ptr<RunningJob>> jobs;
    {
      std::lock_guard lock(jobsMu_);
      for (auto& [id, j] : jobs_) jobs.push_back(j);
    }
    for (auto& job : jobs) {
      if (!job->started.load() || job->running.load() == 0) continue;
      std::vector<json> samples;
      {
        std::lock_guard lock(job->mu);
        if (!job->taps) continue;
        for (std::size_t e = 0; e < job->taps->size(); ++e) {
          const EdgeTap* tap = job->taps->edge(static_cast<int>(e));
          if (!tap->enabled()) continue;
          const TapSample sample = tap->snapshot(kTapRowsPerMessage);
          if (sample.subtasks == 0) continue;  // no producer of this edge here
          samples.push_back(tapSampleToJson(sample, kTapRowsPerMessage, true));
        }
      }
      for (auto& sample : samples) {
        const int edge = sample["edge"];
        jm_->send({{"type", "tap_sample"},
                   {"job", job->id},
                   {"attempt", job->attempt},
                   {"edge", edge},
                   {"sample", std::move(sample)}});
      }
    }
  }

  /// A `tap` message: turns the tap of one plan edge of a job on or off.
  void setTap(const json& msg) {
    const int edge = msg.value("edge", -1);
    const bool on = msg.value("enable", true);
    std::shared_ptr<RunningJob> job = findJob(msg);
    if (!job) return;
    std::lock_guard lock(job->mu);
    if (!job->taps) {
      if (on) job->tapsWanted.insert(edge);
      else job->tapsWanted.erase(edge);
      return;
    }
    if (EdgeTap* tap = job->taps->edge(edge)) tap->enable(on);
  }

  void handle(const json& msg) {
    const std::string type = msg["type"];
    if (type == "registered") {
      logLine("info", "taskmanager", "registered with the JobManager",
              {{"jobmanager", flags_.jobmanager}, {"security", jm_->security()}});
    } else if (type == "refused") {
      logLine("error", "taskmanager", "registration refused", {{"reason", msg.value("reason", "")}});
      exitCode_ = 1;
      jm_->close();
    } else if (type == "deploy") {
      deploy(msg);
    } else if (type == "tap") {
      setTap(msg);
    } else if (type == "trigger_checkpoint" || type == "checkpoint_complete" || type == "checkpoint_aborted") {
      onCheckpointMessage(type, msg);
    } else if (type == "cancel") {
      if (auto job = findJob(msg)) {
        logLine("info", "taskmanager", "canceling job", {{"job", job->id}, {"attempt", job->attempt}});
        job->cancel();
      }
    } else {
      logLine("warn", "taskmanager", "unknown control message ignored", {{"type", type}});
    }
  }

  /// The attempt a `cancel` or `tap` message names (`job`, `attempt`), or null.
  std::shared_ptr<RunningJob> findJob(const json& msg) {
    const std::string id = msg.value("job", "");
    std::lock_guard lock(jobsMu_);
    for (auto& [key, job] : jobs_)
      if (job->id == id && job->attempt == msg.value("attempt", -1)) return job;
    return nullptr;
  }

  /// Sends a subtask state to the JobManager (any thread).
  /// `node` (FAILED only): the operator that failed, when known.
  void report(const RunningJob& job, int vertex, int subtask, const std::string& state, const std::string& cause,
              const std::string& node = "") {
    json m{{"type", "subtask_state"},
           {"job", job.id},
           {"attempt", job.attempt},
           {"vertex", job.graph.vertices.empty() ? "" : job.graph.vertices[static_cast<std::size_t>(vertex)].id},
           {"subtask", subtask},
           {"state", state}};
    if (!cause.empty()) m["cause"] = cause;
    if (!node.empty()) m["node"] = node;
    asio::post(io_, [this, m] {
      if (jm_) jm_->send(m);
    });
  }

  /// Where shipped plugin libraries are kept, named by their SHA-256.
  std::filesystem::path pluginCache() const { return std::filesystem::absolute(flags_.dataDir) / "plugin-cache"; }

  void deploy(const json& msg) {
    auto job = std::make_shared<RunningJob>();
    try {
      job->id = msg.at("job").get<std::string>();
      job->attempt = msg.at("attempt").get<int>();
      job->key = {std::stoull(job->id, nullptr, 16), static_cast<std::uint32_t>(job->attempt)};
    } catch (const std::exception& e) {
      logLine("error", "taskmanager", "deploy without a usable job id and attempt ignored", {{"error", e.what()}});
      return;
    }
    {
      std::lock_guard lock(jobsMu_);
      if (!jobs_.emplace(job->key, job).second) {
        logLine("error", "taskmanager", "a second deploy of the same attempt ignored",
                {{"job", job->id}, {"attempt", job->attempt}});
        return;
      }
    }
    // Wiring connects to peers, which blocks: on its own thread.
    job->setup = std::thread([this, job, msg] { setup(job, msg); });
  }

  net::ConnectionPtr peer(const std::string& name, const json& tms) {
    std::unique_lock lock(peersMu_);
    auto it = peers_.find(name);
    if (it != peers_.end() && it->second->isOpen()) return it->second;
    if (name_ < name) {
      // One connection per pair: the smaller name connects.
      lock.unlock();
      const auto& t = tms.at(name);
      auto c = transport_->connect(t.at("host").get<std::string>(), static_cast<std::uint16_t>(t.at("port").get<int>()));
      lock.lock();
      peers_[name] = c;
      return c;
    }
    const bool ok = peersChanged_.wait_for(lock, std::chrono::seconds(15), [&] {
      auto i = peers_.find(name);
      return i != peers_.end() && i->second->isOpen();
    });
    if (!ok) throw net::NetworkError("TaskManager " + name + " did not connect within 15 s");
    return peers_[name];
  }

  void setup(const std::shared_ptr<RunningJob>& job, const json& msg) {
    std::vector<std::pair<int, int>> mine;  // (vertex, subtask) deployed here
    try {
      job->plan = planFromJson(msg.at("plan"));
      std::string error;
      auto graph = ExecutionGraph::fromJson(msg.at("graph"), job->plan, error);
      if (!graph) throw std::runtime_error(error);
      job->graph = std::move(*graph);
      installPlugins(job->plan, msg.value("plugins", json::array()), pluginCache());
      const JobPlan& plan = job->plan;
      const ExecutionGraph& g = job->graph;
      {
        // Taps enabled with the deploy (`taps`: edge indices) or by a `tap` message that came first.
        std::lock_guard lock(job->mu);
        job->taps = std::make_unique<JobTaps>(plan);
        if (msg.contains("taps") && msg["taps"].is_array())
          for (const auto& e : msg["taps"])
            if (e.is_number_integer()) job->tapsWanted.insert(e.get<int>());
        for (int e : job->tapsWanted)
          if (EdgeTap* tap = job->taps->edge(e)) tap->enable(true);
      }
      const auto placement = msg.at("placement").get<std::vector<std::vector<std::string>>>();
      if (placement.size() != g.vertices.size())
        throw std::runtime_error("placement does not match the execution graph");
      for (std::size_t v = 0; v < g.vertices.size(); ++v) {
        if (placement[v].size() != static_cast<std::size_t>(g.vertices[v].parallelism))
          throw std::runtime_error("placement of " + g.vertices[v].id + " does not match its parallelism");
        for (std::size_t s = 0; s < placement[v].size(); ++s)
          if (placement[v][s] == name_) mine.emplace_back(static_cast<int>(v), static_cast<int>(s));
      }
      const json& tms = msg.at("taskmanagers");
      auto tmOf = [&](int v, int s) -> const std::string& {
        return placement[static_cast<std::size_t>(v)][static_cast<std::size_t>(s)];
      };
      // Dead letters: one file per TaskManager beside the job's (two processes must not append to one file).
      // "<stem>.<taskmanager name><ext>" beside the job's dead-letter file; a stale one from an
      // earlier run or attempt must not pass for this one's (as in the LocalExecutor).
      std::filesystem::path dl = plan.deadLetterPath;
      dl.replace_filename(dl.stem().string() + "." + name_ + dl.extension().string());
      std::error_code rmErr;
      std::filesystem::remove(dl, rmErr);
      job->deadLetters = std::make_unique<DeadLetterSink>(dl);

      // The one wiring of runtime/execution_graph.h: in-memory channels where both ends
      // are here, network channels keyed by (job, attempt, channel index) where not.
      SubtaskWiring wiring;
      wiring.runsHere = [&](int v, int s) { return tmOf(v, s) == name_; };
      wiring.writer = [&](const ExecutionChannel& ch, Subtask* consumer) -> std::unique_ptr<ChannelWriter> {
        if (consumer) return std::make_unique<LocalChannelWriter>(*consumer->gate(), ch.gateChannel);
        peer(tmOf(ch.to, ch.toSubtask), tms);  // make sure the pair is connected (either side may own it)
        auto w = transport_->openOutput({job->key.job, job->key.attempt, static_cast<std::uint32_t>(ch.index)});
        std::lock_guard lock(job->mu);
        job->netWriters.push_back(w.get());
        return w;
      };
      wiring.remoteInput = [&](const ExecutionChannel& ch, Subtask& consumer) {
        auto conn = peer(tmOf(ch.from, ch.fromSubtask), tms);
        transport_->addInput(conn, {job->key.job, job->key.attempt, static_cast<std::uint32_t>(ch.index)},
                             *consumer.gate(), ch.gateChannel);
      };
      // Checkpoints: where this attempt writes them, and what it restores from.
      const json cp = msg.value("checkpoint", json());
      if (plan.checkpointing() && !cp.is_object()) throw std::runtime_error("a checkpointed job deployed without checkpoint storage");
      if (cp.is_object() && cp.value("restore", json()).is_string()) {
        const std::filesystem::path from = cp["restore"].get<std::string>();
        job->restore = std::make_unique<RestoreSource>(RestoreSource{from, readCheckpointMetadata(from)});
      }
      // A cancel meanwhile finds few gates: setup cancels again once all exist (below).
      auto built = buildSubtasks(plan, g, kNetworkQueueCapacity, OperatorRegistry::builtin(), job->deadLetters.get(),
                                 wiring);
      std::lock_guard lock(job->mu);
      for (std::size_t v = 0; v < built.size(); ++v)
        for (auto& t : built[v])
          if (t) {
            t->attachTaps(*job->taps);
            if (plan.checkpointing()) {
              SubtaskCheckpointing c;
              c.exactlyOnce = plan.checkpoint.value("mode", std::string("exactly_once")) != "at_least_once";
              c.job = job->id;
              c.attempt = job->attempt;
              c.vertex = g.vertices[v].id;
              c.jobDir = cp.at("dir").get<std::string>();
              c.responder = this;
              c.uploader = uploader_.get();
              c.restore = job->restore.get();
              t->setCheckpointing(std::move(c));
            }
            job->subtasks.push_back({static_cast<int>(v), std::move(t)});
          }
    } catch (const std::exception& ex) {
      logLine("error", "taskmanager", "deployment failed",
              {{"job", job->id}, {"attempt", job->attempt}, {"error", ex.what()}});
      for (auto [v, s] : mine) report(*job, v, s, "FAILED", std::string("deployment failed on ") + name_ + ": " + ex.what());
      asio::post(io_, [this, job] { reap(job); });
      return;
    }
    logLine("info", "taskmanager", "starting subtasks",
            {{"job", job->id}, {"attempt", job->attempt}, {"subtasks", mine.size()}});
    // A cancel that arrived while wiring found some gates and writers missing: repeat it
    // now that all exist (the subtasks then end at once).
    if (job->canceled.load()) job->cancel();
    std::lock_guard lock(job->mu);
    job->running.store(static_cast<int>(job->subtasks.size()));
    job->unreported.store(static_cast<int>(job->subtasks.size()));
    // Started before the first thread: a subtask that ends at once posts the job's final
    // metrics, which must not be skipped as "not started yet" (sendMetrics then waits for
    // this lock, so it reads the subtasks only when all exist).
    job->started.store(true);
    if (job->subtasks.empty()) asio::post(io_, [this, job] { reap(job); });
    for (auto& ls : job->subtasks) {
      Subtask* t = ls.task.get();
      const int vertex = ls.vertex;
      report(*job, vertex, t->index(), "RUNNING", "");
      job->threads.emplace_back([this, job, t, vertex] {
        std::string cause, node;
        try {
          t->run(job->canceled, [&](const SubtaskFailure& f) {
            cause = toValidUtf8(f.toString());  // it may quote a bad record
            node = toValidUtf8(f.node);
          });
        } catch (const std::exception& e) {
          cause = std::string("subtask ended by an unexpected error: ") + e.what();  // never out of a daemon's thread
        }
        // The last subtask here: its job's final metrics go out before its state, so that
        // when the JobManager sees the job end it already holds the final figures.
        if (job->running.fetch_sub(1) == 1) asio::post(io_, [this] { sendMetrics(); });
        if (!cause.empty()) {
          report(*job, vertex, t->index(), "FAILED", cause + " (on " + name_ + ")", node);
          job->cancel();  // the JobManager cancels the others; stop the local ones now
        } else {
          report(*job, vertex, t->index(), job->canceled.load() ? "CANCELED" : "FINISHED", "");
        }
        // The last one to report: the attempt is over here.
        if (job->unreported.fetch_sub(1) == 1) asio::post(io_, [this, job] { reap(job); });
      });
    }
  }

  /// io thread: every subtask of the attempt has stopped (or it never started): joins its
  /// threads, releases its channels in the Transport (late frames of it are dropped from
  /// now on), forgets it, and tells the JobManager that its slots are free.
  void reap(const std::shared_ptr<RunningJob>& job) {
    if (job->setup.joinable()) job->setup.join();
    for (auto& t : job->threads)
      if (t.joinable()) t.join();
    if (transport_) transport_->release(job->key);
    {
      std::lock_guard lock(jobsMu_);
      jobs_.erase(job->key);
    }
    logLine("info", "taskmanager", "attempt ended", {{"job", job->id}, {"attempt", job->attempt}});
    if (jm_) jm_->send({{"type", "attempt_ended"}, {"job", job->id}, {"attempt", job->attempt}});
  }

  void shutdown() {
    std::map<net::AttemptKey, std::shared_ptr<RunningJob>> jobs;
    {
      std::lock_guard lock(jobsMu_);
      jobs = jobs_;
    }
    for (auto& [id, j] : jobs) {
      if (j->setup.joinable()) j->setup.join();
      j->cancel();
    }
    for (auto& [id, j] : jobs)
      for (auto& t : j->threads)
        if (t.joinable()) t.join();
    uploader_.reset();  // finishes snapshot writes under way
    transport_.reset();
    logLine("info", "taskmanager", "stopped", {{"name", name_}});
  }

  Flags flags_;
  std::string secret_;
  std::string name_;
  std::uint16_t dataPort_ = 0;
  asio::io_context io_;
  asio::signal_set signals_;
  std::unique_ptr<net::Transport> transport_;
  std::unique_ptr<SnapshotUploader> uploader_;  // writes checkpoint snapshots off the subtask threads
  std::shared_ptr<ControlConnection> jm_;
  std::shared_ptr<asio::ssl::context> controlTls_;  // null without TLS
  bool stopping_ = false;
  int exitCode_ = 0;

  std::mutex jobsMu_;
  // The attempts deployed here and not yet reaped (their channels released).
  std::map<net::AttemptKey, std::shared_ptr<RunningJob>> jobs_;

  std::mutex peersMu_;
  std::condition_variable peersChanged_;
  std::map<std::string, net::ConnectionPtr> peers_;

};

}  // namespace
}  // namespace weir::cluster

int main(int argc, char** argv) {
  using namespace weir::cluster;
  Flags f;
  DaemonArgs args(argc, argv, usageExit);
  while (args.next()) {
    const std::string& a = args.flag();
    if (a == "--jobmanager") f.jobmanager = args.value();
    else if (a == "--slots") f.slots = args.number(1, 1024);
    else if (a == "--bind") f.bind = args.value();
    else if (a == "--data-port") f.dataPort = args.number(0, 65535);
    else if (a == "--secret-file") f.secretFile = args.value();
    else if (a == "--name") f.name = args.value();
    else if (a == "--heartbeat-interval-ms") f.heartbeatMs = args.number(10, 600000);
    else if (a == "--connect-timeout-ms") f.connectTimeoutMs = args.number(0, 3600000);
    else if (takeTlsFlag(args, f.tls)) continue;
    else if (a == "--data-dir") f.dataDir = args.value();
    else if (a == "--help" || a == "-h") usageExit("");
    else usageExit("unknown option " + args.where());
  }
  if (f.jobmanager.empty() || f.jobmanager.find(':') == std::string::npos)
    usageExit("--jobmanager HOST:PORT is required");
  try {
    const std::string secret = clusterSecret(f.secretFile);
    if (const std::string why = weir::net::checkTlsFiles(f.tls); !why.empty()) {
      logLine("error", "taskmanager", "TLS: " + why);
      return 2;
    }
    TaskManager tm(f, secret);
    return tm.run();
  } catch (const std::exception& e) {
    logLine("error", "taskmanager", e.what());
    return 1;
  }
}

// weir-jobmanager: accepts jobs over HTTP, schedules their subtasks onto TaskManager
// slots, tracks TaskManagers by their control connection and heartbeats, keeps metadata
// in SQLite (docs/api.md, docs/protocol.md "Control plane", docs/operations.md).
//
// Everything runs on one io thread: the RPC listener and its TaskManager sessions, the
// heartbeat watchdog, the HTTP server. The state below is touched only there, so it
// needs no lock.

#include "cluster/control.h"
#include "cluster/daemon_args.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>

#include <unistd.h>
#include <iostream>
#include <map>
#include <random>
#include <set>

#include "cluster/job_state.h"
#include "cluster/control_messages.h"
#include "cluster/http_util.h"
#include "cluster/metadata.h"
#include "cluster/plan_json.h"
#include "cluster/plugin_ship.h"
#include "core/file_util.h"
#include "core/json_limits.h"
#include "core/text.h"
#include "net/accept_backoff.h"
#include "core/validate.h"
#include "runtime/checkpoint_coordinator.h"
#include "runtime/execution_graph.h"
#include "runtime/local_executor.h"
#include "runtime/watermarks.h"  // wallClockMs
#include "runtime/planner.h"
#include "runtime/registry.h"
#include "runtime/savepoint_check.h"
#include "runtime/tap.h"

namespace weir::cluster {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::use_awaitable;
using boost::system::error_code;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::string bind = "127.0.0.1";
  int rpcPort = 6123;
  int apiPort = 8081;
  std::string dataDir = "weir-data";
  std::string secretFile;
  int heartbeatTimeoutMs = 5000;
  int metricHistoryIntervalMs = 5000;  // one metric_history row per node of a running job this often
  bool refuseWithoutSlots = false;  // --on-insufficient-slots refuse
  std::string portsFile;            // written once listening: {"rpc_port": P, "api_port": P}
  int tapIdleMs = 60000;            // a tap nobody reads for this long is disabled
  net::TlsFiles tls;                // --tls-cert/--tls-key/--tls-ca: every listener requires TLS
};

[[noreturn]] void usageExit(const std::string& why) {
  if (!why.empty()) std::cerr << "weir-jobmanager: " << why << "\n";
  std::cerr << "usage: weir-jobmanager [--bind ADDR] [--rpc-port P] [--api-port P] [--data-dir DIR]\n"
               "                       [--secret-file F] [--heartbeat-timeout-ms MS]\n"
               "                       [--metric-history-interval-ms MS] [--tap-idle-timeout-ms MS]\n"
               "                       [--on-insufficient-slots wait|refuse] [--ports-file F]\n"
               "                       [--tls-cert F --tls-key F --tls-ca F]\n"
               "                       [--config F.json]\n";
  std::exit(2);
}


bool isLoopback(const std::string& addr) {
  error_code ec;
  auto a = asio::ip::make_address(addr, ec);
  return !ec && a.is_loopback();
}

struct TmInfo {
  std::string name;
  int slots = 0;
  int slotsUsed = 0;
  std::string dataHost;
  int dataPort = 0;
  std::shared_ptr<ControlConnection> conn;
  Clock::time_point lastHeartbeat;
  std::string state = "REGISTERED";  // REGISTERED | LOST
  std::string lostReason;
  Clock::time_point lostAt;  // when it became LOST (the oldest are forgotten first)
  std::int64_t registeredMs = 0;
  std::set<std::string> pluginHashes;  // plugin libraries it has (cluster/plugin_ship.h)
  // As its last heartbeat said: what its Transport holds (zero once every attempt there
  // has ended and been released) and the attempts it still runs.
  std::int64_t channels = 0, attempts = 0;
};

/// One WebSocket client of GET /v1/jobs/{id}/live. The publisher (io thread) replaces
/// `metrics` with the newest message, so a slow client holds at most one pending metrics
/// message and one final status; its writer coroutine sends them, one write in flight.
/// The socket (plain or TLS) is in LiveSocket below.
struct LiveClient {
  LiveClient(std::string jobId, const asio::any_io_executor& ex) : job(std::move(jobId)), wake(ex) {}
  virtual ~LiveClient() = default;
  std::string job;
  std::optional<std::string> metrics;  // the newest metrics message not yet written
  std::optional<std::string> final;    // the status message; the connection closes after it
  asio::steady_timer wake;             // canceled to wake the writer
  bool closed = false;                 // the reader or the writer ended
  std::uint64_t replaced = 0;          // metrics messages dropped for a newer one
  void notify() { wake.cancel(); }
};

/// A LiveClient's WebSocket over `Next` (beast::tcp_stream, or an ssl_stream of one).
template <typename Next>
struct LiveSocket final : LiveClient {
  LiveSocket(Next&& next, std::string jobId) : LiveClient(std::move(jobId), next.get_executor()), ws(std::move(next)) {}
  websocket::stream<Next> ws;
};

struct SubtaskInfo {
  int vertex = 0;  // index into the job's ExecutionGraph::vertices (the API's "chain")
  int index = 0;
  std::string tm;
  SubtaskState state = SubtaskState::Created;
  std::string cause;
};

/// A tap enabled through POST /v1/jobs/{id}/edges/{edge}/tap: the TaskManagers send their
/// producers' rows (`tap_sample`) with every heartbeat; GET .../sample merges the newest.
struct TapInfo {
  Clock::time_point lastRead;           // the enable or the last GET; idle too long: disabled
  std::map<std::string, json> samples;  // the newest tap_sample `sample` by TaskManager
};

struct JobInfo {
  std::string id;
  std::uint64_t key = 0;  // the id as a number: the job part of its channels' keys
  std::string name;
  JobState state = JobState::Created;
  std::string reason;  // why CREATED / RESTARTING waits, or the failure
  json jobFile;
  JobPlan plan;
  ExecutionGraph graph;
  std::vector<SubtaskInfo> subtasks;  // of the current attempt
  // Slots each TaskManager holds for the current (or last) attempt. A TaskManager's
  // entry goes when it says the attempt ended there (`attempt_ended`), or when it is lost.
  std::map<std::string, int> slotsByTm;
  int slotsNeeded = 0;
  int attempt = 0;  // 0 before the first deployment, then 1, 2, ...
  RestartTracker restarts;
  std::int64_t attemptStartedMs = 0;
  Clock::time_point restartAt{};  // RESTARTING: not deployed again before this
  bool cancelRequested = false;   // a cancel came while FAILING: end CANCELED, no restart
  int attemptExceptions = 0;      // exceptions recorded for the current attempt
  std::string status() const { return std::string(stateName(state)); }
  std::int64_t submittedMs = 0, startedMs = 0, endedMs = 0;
  // The latest and the one before of each subtask's metric rows (a TaskManager's
  // `metrics` message), by (chain, subtask); at_ms is the TaskManager's steady clock.
  std::map<std::pair<int, int>, json> metricsLatest, metricsPrevious;
  std::map<int, TapInfo> taps;  // enabled taps by plan edge index
  std::map<std::string, PluginBlob> plugins;  // udf libraries by SHA-256, shipped on deploy
  // Checkpoints (a job with a `checkpoint` object): the coordinator of the current attempt
  // (null before the first deployment), the job's checkpoint folder, and the checkpoint
  // the current attempt restored from (-1: none, it started from its sources).
  std::unique_ptr<CheckpointCoordinator> coordinator;
  std::filesystem::path checkpointDir;
  std::int64_t restoredFrom = -1;
  std::filesystem::path initialRestore;  // --from-savepoint: what attempt 1 restores from
  std::int64_t stopWithSavepoint = -1;   // POST .../stop: cancel once this savepoint completed
  std::string stoppedWithSavepoint;      // its path, once stopped
  bool terminal() const { return isTerminal(state); }
  /// RUNNING, or on its way to another attempt or an end with subtasks still deployed.
  bool active() const { return state == JobState::Running || state == JobState::Failing || state == JobState::Canceling; }
};

std::string newJobId() {
  static std::mt19937_64 rng{std::random_device{}()};
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

class JobManager {
 public:
  JobManager(Flags flags, std::string secret)
      : flags_(std::move(flags)), secret_(std::move(secret)),
        meta_(std::filesystem::path(flags_.dataDir) / "metadata.sqlite"), signals_(io_, SIGINT, SIGTERM),
        rpc_(io_), api_(io_) {
    if (flags_.tls.enabled()) {
      rpcTls_ = net::makeDaemonTlsContext(flags_.tls, net::TlsRole::Server);
      apiTls_ = net::makeApiServerTlsContext(flags_.tls);
    }
  }

  int run() {
    // Runs an earlier JobManager on this data dir left open (it was killed, or stopped
    // with jobs running): a checkpointed job with a completed checkpoint resumes from it;
    // the others are over (docs/fault-tolerance.md, "JobManager failover").
    resumeOpenRuns();
    const auto addr = asio::ip::make_address(flags_.bind);
    for (auto [acc, port] : {std::pair{&rpc_, flags_.rpcPort}, std::pair{&api_, flags_.apiPort}}) {
      tcp::endpoint ep(addr, static_cast<std::uint16_t>(port));
      acc->open(ep.protocol());
      acc->set_option(tcp::acceptor::reuse_address(true));
      acc->bind(ep);
      acc->listen();
    }
    logLine("info", "jobmanager", "listening",
            {{"bind", flags_.bind}, {"rpc_port", rpc_.local_endpoint().port()}, {"api_port", api_.local_endpoint().port()},
             {"data_dir", flags_.dataDir}, {"heartbeat_timeout_ms", flags_.heartbeatTimeoutMs},
             {"tls", rpcTls_ != nullptr}});
    if (!flags_.portsFile.empty()) writePortsFile();
    signals_.async_wait([this](const error_code& ec, int sig) {
      if (ec) return;
      logLine("info", "jobmanager", "signal received, shutting down", {{"signal", sig}});
      stop();
    });
    asio::co_spawn(io_, acceptRpc(), asio::detached);
    asio::co_spawn(io_, acceptApi(), asio::detached);
    asio::co_spawn(io_, watchdog(), asio::detached);
    asio::co_spawn(io_, livePublisher(), asio::detached);
    asio::co_spawn(io_, historyRecorder(), asio::detached);
    asio::co_spawn(io_, checkpointTicker(), asio::detached);
    io_.run();
    logLine("info", "jobmanager", "stopped");
    return 0;
  }

 private:
  /// The ports actually bound (port 0 picks free ones), for whoever started us: written
  /// atomically, so a reader never sees half a file.
  void writePortsFile() const {
    const json ports{{"rpc_port", rpc_.local_endpoint().port()}, {"api_port", api_.local_endpoint().port()},
                     {"pid", ::getpid()}};
    writeFileAtomically(flags_.portsFile, ports.dump() + "\n");
  }

  void stop() {
    stopping_ = true;
    // The TaskManagers cancel every subtask when this connection goes; the runs end here.
    if (const int n = meta_.settleRuns("the JobManager was stopped while the job ran"))
      logLine("info", "jobmanager", "settled the runs of jobs still running", {{"runs", n}});
    error_code ec;
    rpc_.close(ec);
    api_.close(ec);
    for (auto& [n, tm] : tms_)
      if (tm.conn) tm.conn->close();
    io_.stop();
  }

  // ---- TaskManagers ------------------------------------------------------------------

  awaitable<void> acceptRpc() {
    net::AcceptBackoff backoff;
    while (!stopping_) {
      error_code ec;
      tcp::socket s = co_await rpc_.async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (stopping_) co_return;
        co_await backoff.failed(ec, [](const std::string& m) { logLine("error", "jobmanager", "RPC port: " + m); });
        continue;
      }
      backoff.succeeded();
      if (pendingHandshakes_ >= kMaxPendingHandshakes) {
        refuseOverCap(s, "RPC connections in their handshake", kMaxPendingHandshakes);
        continue;
      }
      asio::co_spawn(io_, tmSession(std::move(s)), asio::detached);
    }
  }

  /// Closes a connection accepted over a cap (limits.h); logs at most once per 10 s.
  void refuseOverCap(tcp::socket& s, const char* what, int cap) {
    error_code ec;
    s.close(ec);
    if (const auto now = Clock::now(); now - lastCapLog_ >= std::chrono::seconds(10)) {
      lastCapLog_ = now;
      logLine("warn", "jobmanager", std::string("connection closed: already ") + std::to_string(cap) + " " + what);
    }
  }

  awaitable<void> tmSession(tcp::socket socket) {
    ControlOptions options{"weir", "jobmanager", secret_};
    options.tls = rpcTls_;
    auto conn = std::make_shared<ControlConnection>(std::move(socket), std::move(options));
    CountedConnection handshaking(pendingHandshakes_);
    std::string err = co_await conn->serverHandshake();
    handshaking.release();
    if (!err.empty()) {
      logLine("warn", "jobmanager", "control connection refused", {{"peer", conn->endpoint()}, {"reason", err}});
      co_return;
    }
    conn->start();
    std::string name;
    bool refused = false;  // a malformed register: the refusal is sent, then the connection closed
    for (;;) {
      auto msg = co_await conn->receive(err);
      if (!msg) break;
      try {
      const std::string type = (*msg)["type"];
      if (type == "register") {
        if (std::string why = registerProblem(*msg); !why.empty()) {
          logLine("warn", "jobmanager", "registration refused", {{"peer", conn->endpoint()}, {"reason", why}});
          conn->send({{"type", "refused"}, {"reason", "malformed register: " + why}});
          refused = true;
          break;
        }
        name = msg->value("name", "");
        auto it = tms_.find(name);
        if (name.empty() || (it != tms_.end() && it->second.state != "LOST")) {
          conn->send({{"type", "refused"}, {"reason", "a TaskManager named '" + name + "' is registered already"}});
          name.clear();
          continue;
        }
        TmInfo tm;
        tm.name = name;
        tm.slots = std::max(0, msg->value("slots", 0));
        tm.dataHost = msg->value("data_host", "127.0.0.1");
        tm.dataPort = msg->value("data_port", 0);
        tm.conn = conn;
        tm.lastHeartbeat = Clock::now();
        tm.registeredMs = wallClockMs();
        if (auto h = msg->find("plugin_hashes"); h != msg->end() && h->is_array())
          for (const auto& x : *h)
            if (x.is_string()) tm.pluginHashes.insert(x.get<std::string>());
        tms_[name] = tm;
        tmOrder_.erase(std::remove(tmOrder_.begin(), tmOrder_.end(), name), tmOrder_.end());
        tmOrder_.push_back(name);
        meta_.taskManagerSeen(name, tm.slots, tm.dataHost + ":" + std::to_string(tm.dataPort));
        logLine("info", "jobmanager", "TaskManager registered",
                {{"taskmanager", name}, {"slots", tm.slots}, {"data", tm.dataHost + ":" + std::to_string(tm.dataPort)},
                 {"security", conn->security()}});
        conn->send({{"type", "registered"}});
        schedule();
      } else if (name.empty()) {
        conn->send({{"type", "refused"}, {"reason", "register first"}});
      } else if (type == "heartbeat") {
        TmInfo& tm = tms_[name];
        tm.lastHeartbeat = Clock::now();
        tm.channels = msg->value("channels", std::int64_t{0});
        tm.attempts = msg->value("attempts", std::int64_t{0});
      } else if (type == "attempt_ended") {
        tms_[name].lastHeartbeat = Clock::now();
        onAttemptEnded(*msg, name);
      } else if (type == "metrics") {
        tms_[name].lastHeartbeat = Clock::now();
        onMetrics(*msg);
      } else if (type == "subtask_state") {
        tms_[name].lastHeartbeat = Clock::now();
        onSubtaskState(*msg, name);
      } else if (type == "tap_sample") {
        onTapSample(*msg, name);
      } else if (type == "checkpoint_ack" || type == "checkpoint_decline") {
        onCheckpointMessage(type, *msg, name);
      }
      } catch (const std::exception& e) {
        // A field of the wrong kind in a message: that TaskManager's connection ends, nothing else.
        err = std::string("malformed ") + toValidUtf8(msg->value("type", "")) + " message: " + e.what();
        logLine("warn", "jobmanager", "control connection closed", {{"peer", conn->endpoint()}, {"reason", err}});
        break;
      }
    }
    if (refused) conn->closeWhenSent();
    else conn->close();
    if (!name.empty()) {
      auto it = tms_.find(name);
      if (it != tms_.end() && it->second.conn == conn && it->second.state != "LOST")
        lost(name, "connection lost: " + err);
    }
  }

  awaitable<void> watchdog() {
    asio::steady_timer t(io_);
    const auto timeout = std::chrono::milliseconds(flags_.heartbeatTimeoutMs);
    while (!stopping_) {
      t.expires_after(std::min<std::chrono::milliseconds>(timeout / 4, std::chrono::milliseconds(250)) +
                      std::chrono::milliseconds(1));
      error_code ec;
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
      const auto now = Clock::now();
      std::vector<std::string> late;
      for (auto& [n, tm] : tms_)
        if (tm.state != "LOST" && now - tm.lastHeartbeat > timeout) late.push_back(n);
      for (const auto& n : late) {
        lost(n, "no heartbeat for " + std::to_string(flags_.heartbeatTimeoutMs) + " ms");
      }
      expireTaps(now);
      schedule();  // restarts whose delay has passed
    }
  }

  /// A TaskManager is gone: its slots with it. Every job with a subtask of its current
  /// attempt there fails over (FAILING, then a restart or FAILED by its strategy); the
  /// lost TaskManager's part of the attempt counts as ended.
  void lost(const std::string& name, const std::string& reason) {
    TmInfo& tm = tms_[name];
    tm.state = "LOST";
    tm.lostReason = reason;
    tm.slotsUsed = 0;
    tm.channels = tm.attempts = 0;
    if (tm.conn) tm.conn->close();
    meta_.taskManagerLost(name, reason);
    logLine("warn", "jobmanager", "TaskManager lost", {{"taskmanager", name}, {"reason", reason}});
    for (auto& [id, job] : jobs_) {
      if (!job.slotsByTm.erase(name)) continue;  // nothing of this job's attempt there
      if (job.state == JobState::Running) {
        ExceptionRecord e;
        e.message = "TaskManager " + name + " lost (" + reason + ")";
        e.taskmanager = name;
        fail(job, std::move(e));
      }
      settle(job);
    }
    tm.lostAt = Clock::now();
    forgetLostTaskManagers();
    schedule();
  }

  /// Keeps the newest kMaxLostTaskManagers LOST TaskManagers in memory (GET
  /// /v1/taskmanagers shows them); older ones are forgotten here (the metadata keeps them).
  void forgetLostTaskManagers() {
    std::vector<std::pair<Clock::time_point, std::string>> lostOnes;
    for (const auto& [n, t] : tms_)
      if (t.state == "LOST") lostOnes.emplace_back(t.lostAt, n);
    if (lostOnes.size() <= kMaxLostTaskManagers) return;
    std::sort(lostOnes.begin(), lostOnes.end());
    for (std::size_t i = 0; i + kMaxLostTaskManagers < lostOnes.size(); ++i) {
      tms_.erase(lostOnes[i].second);
      tmOrder_.erase(std::remove(tmOrder_.begin(), tmOrder_.end(), lostOnes[i].second), tmOrder_.end());
    }
  }

  // ---- jobs ---------------------------------------------------------------------------

  /// Moves the job along the diagram of cluster/job_state.h (a transition not in it is
  /// a bug: logged and refused).
  void setState(JobInfo& job, JobState to) {
    if (job.state == to) return;
    if (!canTransition(job.state, to)) {
      logLine("error", "jobmanager", "refused job state transition",
              {{"job", job.id}, {"from", job.status()}, {"to", std::string(stateName(to))}});
      return;
    }
    if (job.state == JobState::Running && job.coordinator)
      for (const auto& o : job.coordinator->abortAll("the attempt ended (" + std::string(stateName(to)) + ")", wallClockMs()))
        recordCheckpoint(job, o.id);
    job.state = to;
    meta_.runStatus(job.id, job.status());
    if (to == JobState::Running && job.startedMs == 0) job.startedMs = wallClockMs();
    if (job.terminal()) job.endedMs = wallClockMs();
    logLine("info", "jobmanager", "job status",
            {{"job", job.id}, {"name", job.name}, {"status", job.status()}, {"attempt", job.attempt}});
    if (job.terminal()) {
      // A finished or canceled job needs its checkpoints no more; a failed one keeps them
      // (docs/fault-tolerance.md, "Storage layout"). Savepoints live elsewhere.
      if (to != JobState::Failed && !job.checkpointDir.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(job.checkpointDir, ec);
      }
      recordHistory(job);  // a last sample: a job shorter than the interval has one too
      finishLive(job);
      schedule();
    }
  }

  /// Tells every TaskManager still holding the current attempt to cancel it.
  void cancelOnTaskManagers(JobInfo& job) {
    for (auto& st : job.subtasks)
      if (!isTerminal(st.state)) st.state = SubtaskState::Canceling;
    for (const auto& [name, n] : job.slotsByTm) {
      auto it = tms_.find(name);
      if (it != tms_.end() && it->second.state != "LOST" && it->second.conn)
        it->second.conn->send({{"type", "cancel"}, {"job", job.id}, {"attempt", job.attempt}});
    }
  }

  /// Records an exception of the job's current attempt: the first is that attempt's root
  /// cause, later ones (failures seen while it stops) are only recorded.
  void recordException(JobInfo& job, ExceptionRecord e) {
    e.atMs = wallClockMs();
    e.attempt = job.attempt;
    e.rootCause = job.attemptExceptions++ == 0;
    meta_.exception(job.id, e);
  }

  /// A failure of the running attempt: FAILING, its subtasks canceled everywhere; what
  /// follows (a restart or FAILED) is decided once every TaskManager ended the attempt.
  void fail(JobInfo& job, ExceptionRecord e) {
    if (job.state != JobState::Running) return;
    job.reason = e.message;
    recordException(job, std::move(e));
    setState(job, JobState::Failing);
    cancelOnTaskManagers(job);
    settle(job);
  }

  /// A job FAILING or CANCELING whose attempt has ended on every TaskManager (all slots
  /// given back) takes its next state: CANCELED; or RESTARTING / FAILED by the restart
  /// strategy.
  void settle(JobInfo& job) {
    if (!job.slotsByTm.empty()) return;
    if (job.state == JobState::Canceling || (job.state == JobState::Failing && job.cancelRequested)) {
      if (job.state == JobState::Failing) job.state = JobState::Canceling;  // the cancel wins over a restart
      setState(job, JobState::Canceled);
      return;
    }
    if (job.state != JobState::Failing) return;
    const auto d = job.restarts.onFailure(wallClockMs(), job.attemptStartedMs);
    if (!d.restart) {
      // Without a strategy the failure says it all; with one, also why it gave up.
      if (job.restarts.strategy().kind != RestartStrategy::Kind::None) job.reason += " (no restart: " + d.reason + ")";
      setState(job, JobState::Failed);
      return;
    }
    job.restartAt = Clock::now() + std::chrono::milliseconds(d.delayMs);
    meta_.restart(job.id, job.attempt + 1, wallClockMs(), job.reason, d.delayMs);
    logLine("info", "jobmanager", "job restarts",
            {{"job", job.id}, {"attempt", job.attempt + 1}, {"delay_ms", d.delayMs}, {"cause", job.reason}});
    setState(job, JobState::Restarting);
    schedule();
  }

  /// POST /v1/jobs/{id}/cancel: a job not deployed ends at once; a running one is
  /// CANCELING until every TaskManager ended the attempt; a failing one ends CANCELED
  /// instead of restarting.
  void cancel(JobInfo& job) {
    switch (job.state) {
      case JobState::Created:
      case JobState::Restarting:
        job.reason.clear();
        setState(job, JobState::Canceled);
        break;
      case JobState::Running:
        setState(job, JobState::Canceling);
        cancelOnTaskManagers(job);
        settle(job);
        break;
      case JobState::Failing:
        job.cancelRequested = true;
        settle(job);
        break;
      default: break;
    }
  }

  /// Where jobJson and the live status put `reason`: why a job waits, or its failure.
  static const char* waitingReasonKey(const JobInfo& job) {
    return job.state == JobState::Created || job.state == JobState::Restarting ? "waiting_reason" : "failure";
  }

  /// A subtask_state message from TaskManager `tm`. Believed only for the job's current
  /// attempt and from the TaskManager the subtask was placed on.
  void onSubtaskState(const json& m, const std::string& tm) {
    auto it = jobs_.find(m.value("job", ""));
    if (it == jobs_.end()) return;
    JobInfo& job = it->second;
    if (m.value("attempt", -1) != job.attempt) return;  // a report of an attempt that is over
    const int vertex = job.graph.vertexIndex(m.value("vertex", "")), index = m.value("subtask", -1);
    const auto state = parseSubtaskState(m.value("state", ""));
    auto st = std::find_if(job.subtasks.begin(), job.subtasks.end(),
                           [&](const SubtaskInfo& s) { return s.vertex == vertex && s.index == index; });
    if (st == job.subtasks.end() || !state) {
      logLine("warn", "jobmanager", "subtask_state for no such subtask ignored",
              {{"job", job.id}, {"taskmanager", tm}, {"vertex", m.value("vertex", "")}, {"subtask", index}});
      return;
    }
    if (st->tm != tm) {
      logLine("warn", "jobmanager", "subtask_state from a TaskManager the subtask is not on ignored",
              {{"job", job.id}, {"taskmanager", tm}, {"placed_on", st->tm}, {"subtask", index}});
      return;
    }
    if (isTerminal(st->state)) return;
    st->state = *state;
    if (m.contains("cause") && m["cause"].is_string()) st->cause = m["cause"];
    if (*state == SubtaskState::Failed) {
      ExceptionRecord e;
      e.message = m.value("cause", "subtask failed");
      e.node = m.value("node", "");
      if (e.node.empty()) e.node = job.graph.name(job.plan, vertex);
      e.subtask = index;
      e.taskmanager = tm;
      if (job.state == JobState::Running) fail(job, std::move(e));
      else if (job.state == JobState::Failing) recordException(job, std::move(e));
      return;
    }
    if (job.state != JobState::Running) return;
    if (*state == SubtaskState::Finished && job.coordinator)
      for (const auto& o : job.coordinator->subtaskLeft(m.value("vertex", ""), index, wallClockMs()))
        checkpointEnded(job, o);
    const bool allDone = std::all_of(job.subtasks.begin(), job.subtasks.end(),
                                     [](const SubtaskInfo& s) { return s.state == SubtaskState::Finished; });
    if (allDone) setState(job, JobState::Finished);
  }

  /// `attempt_ended` from TaskManager `tm`: every subtask of that attempt there has
  /// stopped and everything it wired is released: its slots are free again.
  void onAttemptEnded(const json& m, const std::string& tm) {
    auto it = jobs_.find(m.value("job", ""));
    if (it == jobs_.end()) return;
    JobInfo& job = it->second;
    if (m.value("attempt", -1) != job.attempt) return;
    auto held = job.slotsByTm.find(tm);
    if (held == job.slotsByTm.end()) return;
    TmInfo& info = tms_[tm];
    if (info.state != "LOST") info.slotsUsed = std::max(0, info.slotsUsed - held->second);
    job.slotsByTm.erase(held);
    settle(job);
    schedule();
  }

  // ---- taps (docs/api.md, "Taps") ----------------------------------------------------

  /// Sends a `tap` message for plan edge `edge` to every TaskManager running the job.
  void sendTap(const JobInfo& job, int edge, bool on) {
    for (const auto& [tm, n] : job.slotsByTm) {
      auto it = tms_.find(tm);
      if (it != tms_.end() && it->second.state != "LOST" && it->second.conn)
        it->second.conn->send(
            {{"type", "tap"}, {"job", job.id}, {"attempt", job.attempt}, {"edge", edge}, {"enable", on}});
    }
  }

  /// Disables the taps nobody read for flags_.tapIdleMs (watchdog, io thread).
  void expireTaps(Clock::time_point now) {
    for (auto& [id, job] : jobs_) {
      for (auto it = job.taps.begin(); it != job.taps.end();) {
        if (now - it->second.lastRead < std::chrono::milliseconds(flags_.tapIdleMs)) {
          ++it;
          continue;
        }
        if (!job.terminal()) sendTap(job, it->first, false);
        logLine("info", "jobmanager", "tap disabled after no reads", {{"job", id}, {"edge", it->first}});
        it = job.taps.erase(it);
      }
    }
  }

  void onTapSample(const json& m, const std::string& tm) {
    auto it = jobs_.find(m.value("job", ""));
    if (it == jobs_.end() || !m.contains("sample") || !m["sample"].is_object()) return;
    auto tap = it->second.taps.find(m.value("edge", -1));
    if (tap == it->second.taps.end()) return;  // disabled meanwhile
    tap->second.samples[tm] = m["sample"];
  }

  /// "edges/{edge}/tap" or "edges/{edge}/sample" -> (edge, "tap" | "sample"); edge -1 if malformed.
  static std::pair<int, std::string> edgeRoute(const std::string& sub) {
    const std::string prefix = "edges/";
    const auto slash = sub.find('/', prefix.size());
    if (sub.rfind(prefix, 0) != 0 || slash == std::string::npos) return {-1, ""};
    const std::string n = sub.substr(prefix.size(), slash - prefix.size());
    if (n.empty() || n.size() > 6 || !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return {-1, sub.substr(slash + 1)};
    return {std::stoi(n), sub.substr(slash + 1)};
  }

  json edgeJson(const JobInfo& job, int edge) const {
    const PlanEdge& e = job.plan.edges[static_cast<std::size_t>(edge)];
    const PlanNode& a = job.plan.nodes[static_cast<std::size_t>(e.from)];
    const PlanNode& b = job.plan.nodes[static_cast<std::size_t>(e.to)];
    return {{"edge", edge}, {"from", a.id},
            {"from_port", static_cast<std::size_t>(e.fromPort) < a.outputPorts.size() ? a.outputPorts[static_cast<std::size_t>(e.fromPort)] : "out"},
            {"to", b.id},
            {"to_port", static_cast<std::size_t>(e.toPort) < b.inputPorts.size() ? b.inputPorts[static_cast<std::size_t>(e.toPort)] : "in"}};
  }

  /// POST /v1/jobs/{id}/edges/{edge}/tap, body {"enable": true|false} (default true).
  json tapRequest(JobInfo& job, int edge, const std::string& body, int& status) {
    bool on = true;
    if (!body.empty()) {
      const json b = parseJsonBounded(body);
      if (b.is_discarded() || !b.is_object() || (b.contains("enable") && !b["enable"].is_boolean())) {
        status = 400;
        return {{"error", "the body must be a JSON object {\"enable\": true|false}"}};
      }
      on = b.value("enable", true);
    }
    json r = edgeJson(job, edge);
    if (on && job.terminal()) {
      status = 409;
      return {{"error", "job " + job.id + " is " + job.status() + ": nothing flows any more"}};
    }
    if (on) {
      const bool fresh = !job.taps.count(edge);
      TapInfo& t = job.taps[edge];
      t.lastRead = Clock::now();
      if (fresh) sendTap(job, edge, true);  // a repeated enable only renews the lease
    } else if (job.taps.erase(edge)) {
      if (!job.terminal()) sendTap(job, edge, false);
    }
    r["enabled"] = on;
    r["idle_timeout_ms"] = flags_.tapIdleMs;
    return r;
  }

  /// GET /v1/jobs/{id}/edges/{edge}/sample[?rows=N]: the newest rows of every TaskManager's
  /// producers, merged in capture order, the newest `rows` (default 100, at most 1000).
  json sampleJson(JobInfo& job, int edge, const std::map<std::string, std::string>& query, int& status) {
    std::size_t maxRows = 100;
    if (query.count("rows")) {
      const std::string& v = query.at("rows");
      if (v.empty() || v.size() > 6 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        status = 400;
        return {{"error", "rows must be a number"}};
      }
      maxRows = std::clamp<std::size_t>(static_cast<std::size_t>(std::stoul(v)), 1, 1000);
    }
    json r = edgeJson(job, edge);
    r["schema"] = schemaToJson(*edgeSchema(job.plan, edge));
    auto it = job.taps.find(edge);
    r["enabled"] = it != job.taps.end();
    std::vector<json> rows;
    int subtasks = 0;
    if (it != job.taps.end()) {
      it->second.lastRead = Clock::now();
      for (const auto& [tm, sample] : it->second.samples) {
        subtasks += sample.value("subtasks", 0);
        if (sample.contains("rows") && sample["rows"].is_array())
          for (const auto& row : sample["rows"]) rows.push_back(row);
      }
    }
    std::stable_sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
      return a.value("_at", std::int64_t{0}) < b.value("_at", std::int64_t{0});
    });
    if (rows.size() > maxRows) rows.erase(rows.begin(), rows.end() - static_cast<std::ptrdiff_t>(maxRows));
    json a = json::array();
    for (auto& row : rows) {
      row.erase("_at");
      a.push_back(std::move(row));
    }
    r["rows"] = std::move(a);
    r["subtasks"] = subtasks;
    return r;
  }

  void onMetrics(const json& m) {
    auto it = jobs_.find(m.value("job", ""));
    if (it == jobs_.end() || !m.contains("subtasks") || !m["subtasks"].is_array()) return;
    JobInfo& job = it->second;
    if (m.value("attempt", -1) != job.attempt) return;  // figures of an attempt that is over
    const double atMs = m.value("at_ms", 0.0);
    for (const auto& row : m["subtasks"]) {
      if (!row.is_object()) continue;
      const std::pair<int, int> key{job.graph.vertexIndex(row.value("vertex", "")), row.value("subtask", -1)};
      if (key.first < 0 || key.second < 0) continue;
      json r = row;
      r["at_ms"] = atMs;
      auto cur = job.metricsLatest.find(key);
      if (cur != job.metricsLatest.end()) job.metricsPrevious[key] = std::move(cur->second);
      job.metricsLatest[key] = std::move(r);
    }
  }

  static json watermarkJson(const json& v) {
    if (!v.is_number_integer() || v.get<std::int64_t>() == INT64_MIN) return nullptr;
    return v;
  }

  /// GET /v1/jobs/{id}/metrics: per node totals, per plan edge totals and per subtask rows
  /// of the latest reports, with per-second rates from the last two reports of each
  /// subtask (on the reporting TaskManager's clock).
  json metricsJson(const JobInfo& job) const {
    std::map<std::string, std::size_t> nodeIndex;
    json nodes = json::array();
    for (const auto& n : job.plan.nodes) {
      nodeIndex[n.id] = nodes.size();
      nodes.push_back({{"id", n.id}, {"type", n.type}, {"parallelism", n.parallelism}, {"records_in", 0},
                       {"records_out", 0}, {"bytes_in", 0}, {"bytes_out", 0}, {"dead_letters", 0},
                       {"late_records", 0}, {"records_in_per_s", 0.0}, {"records_out_per_s", 0.0},
                       {"bytes_in_per_s", 0.0}, {"bytes_out_per_s", 0.0}});
    }
    // Plan edges; chained ones are direct calls inside one subtask.
    std::set<std::pair<int, int>> chainedPairs;
    for (const auto& v : job.graph.vertices)
      for (std::size_t i = 0; i + 1 < v.nodes.size(); ++i) chainedPairs.insert({v.nodes[i], v.nodes[i + 1]});
    json edges = json::array();
    for (std::size_t e = 0; e < job.plan.edges.size(); ++e) {
      const PlanEdge& pe = job.plan.edges[e];
      const PlanNode& a = job.plan.nodes[static_cast<std::size_t>(pe.from)];
      const PlanNode& b = job.plan.nodes[static_cast<std::size_t>(pe.to)];
      auto portName = [](const std::vector<std::string>& ports, int p, const char* dflt) {
        return p >= 0 && static_cast<std::size_t>(p) < ports.size() ? ports[static_cast<std::size_t>(p)] : std::string(dflt);
      };
      edges.push_back({{"edge", e}, {"from", a.id}, {"from_port", portName(a.outputPorts, pe.fromPort, "out")},
                       {"to", b.id}, {"to_port", portName(b.inputPorts, pe.toPort, "in")},
                       {"partition", std::string(partitionName(pe.partition))},
                       {"chained", chainedPairs.count({pe.from, pe.to}) > 0}, {"records", 0}, {"bytes", 0},
                       {"records_received", 0}, {"bytes_received", 0}, {"records_per_s", 0.0},
                       {"bytes_per_s", 0.0}});
    }
    std::map<std::pair<int, int>, std::string> placement;
    for (const auto& st : job.subtasks) placement[{st.vertex, st.index}] = st.tm;
    json subtasks = json::array();
    for (const auto& [key, r] : job.metricsLatest) {
      const json* prev = nullptr;
      if (auto p = job.metricsPrevious.find(key); p != job.metricsPrevious.end()) prev = &p->second;
      const double dt = prev ? (r.value("at_ms", 0.0) - prev->value("at_ms", 0.0)) / 1000.0 : 0.0;
      auto rate = [&](const json& now, const json* before, const char* field) {
        if (!before || dt <= 0) return 0.0;
        return (now.value(field, 0.0) - before->value(field, 0.0)) / dt;
      };
      // The element of `prev`'s array `field` at position i, when the report had it.
      auto prevAt = [&](const char* field, std::size_t i) -> const json* {
        if (!prev || !prev->contains(field) || !(*prev)[field].is_array() || i >= (*prev)[field].size()) return nullptr;
        return &(*prev)[field][i];
      };
      auto arrayOf = [&](const char* field) -> const json& {
        static const json empty = json::array();
        return r.contains(field) && r[field].is_array() ? r[field] : empty;
      };
      json ops = json::array();
      const json& rops = arrayOf("operators");
      for (std::size_t i = 0; i < rops.size(); ++i) {
        const json& o = rops[i];
        const json* po = prevAt("operators", i);
        json oj = o;
        oj["records_in_per_s"] = rate(o, po, "records_in");
        oj["records_out_per_s"] = rate(o, po, "records_out");
        oj["bytes_in_per_s"] = rate(o, po, "bytes_in");
        oj["bytes_out_per_s"] = rate(o, po, "bytes_out");
        auto ni = nodeIndex.find(o.value("node", ""));
        if (ni != nodeIndex.end()) {
          json& n = nodes[ni->second];
          for (const char* f : {"records_in", "records_out", "bytes_in", "bytes_out", "dead_letters", "late_records"})
            n[f] = n[f].get<std::int64_t>() + o.value(f, std::int64_t{0});
          for (const char* f : {"records_in_per_s", "records_out_per_s", "bytes_in_per_s", "bytes_out_per_s"})
            n[f] = n[f].get<double>() + oj[f].get<double>();
        }
        ops.push_back(std::move(oj));
      }
      // Edge traffic of this subtask: sent on edges_out, taken on edges_in.
      json edgesOut = json::array(), edgesIn = json::array();
      for (const auto& [field, out] : {std::pair{"edges_out", &edgesOut}, std::pair{"edges_in", &edgesIn}}) {
        const json& list = arrayOf(field);
        for (std::size_t i = 0; i < list.size(); ++i) {
          const json& t = list[i];
          const int e = t.value("edge", -1);
          if (e < 0 || e >= static_cast<int>(edges.size())) continue;
          const json* pt = prevAt(field, i);
          if (pt && pt->value("edge", -1) != e) pt = nullptr;
          json tj{{"edge", e}, {"records", t.value("records", std::int64_t{0})}, {"bytes", t.value("bytes", std::int64_t{0})},
                  {"records_per_s", rate(t, pt, "records")}, {"bytes_per_s", rate(t, pt, "bytes")}};
          json& ej = edges[static_cast<std::size_t>(e)];
          if (out == &edgesOut) {
            ej["records"] = ej["records"].get<std::int64_t>() + tj["records"].get<std::int64_t>();
            ej["bytes"] = ej["bytes"].get<std::int64_t>() + tj["bytes"].get<std::int64_t>();
            ej["records_per_s"] = ej["records_per_s"].get<double>() + tj["records_per_s"].get<double>();
            ej["bytes_per_s"] = ej["bytes_per_s"].get<double>() + tj["bytes_per_s"].get<double>();
          } else {
            ej["records_received"] = ej["records_received"].get<std::int64_t>() + tj["records"].get<std::int64_t>();
            ej["bytes_received"] = ej["bytes_received"].get<std::int64_t>() + tj["bytes"].get<std::int64_t>();
          }
          out->push_back(std::move(tj));
        }
      }
      std::int64_t deadLetters = 0;
      for (const auto& o : rops) deadLetters += o.value("dead_letters", std::int64_t{0});
      static const json noOp = json::object();
      const json& head = ops.empty() ? noOp : ops.front();
      const json& tail = ops.empty() ? noOp : ops.back();
      subtasks.push_back({{"chain", key.first},
                          {"name", r.value("name", "")},
                          {"subtask", key.second},
                          {"taskmanager", placement.count(key) ? placement.at(key) : ""},
                          {"records_in", head.value("records_in", std::int64_t{0})},
                          {"records_out", tail.value("records_out", std::int64_t{0})},
                          {"bytes_in", head.value("bytes_in", std::int64_t{0})},
                          {"bytes_out", tail.value("bytes_out", std::int64_t{0})},
                          {"records_in_per_s", head.value("records_in_per_s", 0.0)},
                          {"records_out_per_s", tail.value("records_out_per_s", 0.0)},
                          {"bytes_in_per_s", head.value("bytes_in_per_s", 0.0)},
                          {"bytes_out_per_s", tail.value("bytes_out_per_s", 0.0)},
                          {"dead_letters", deadLetters},
                          {"busy_ms", r.value("busy_ms", 0.0)},
                          {"backpressured_ms", r.value("backpressured_ms", 0.0)},
                          {"idle_ms", r.value("idle_ms", 0.0)},
                          {"busy_ms_per_s", rate(r, prev, "busy_ms")},
                          {"backpressured_ms_per_s", rate(r, prev, "backpressured_ms")},
                          {"idle_ms_per_s", rate(r, prev, "idle_ms")},
                          {"input_usage", r.value("input_usage", 0.0)},
                          {"output_usage", r.value("output_usage", 0.0)},
                          {"max_queued", r.value("max_queued", 0)},
                          {"input_watermark", watermarkJson(r.value("input_watermark", json()))},
                          {"output_watermark", watermarkJson(r.value("output_watermark", json()))},
                          {"operators", ops},
                          {"edges_out", edgesOut},
                          {"edges_in", edgesIn}});
    }
    return {{"job", job.id}, {"status", job.status()}, {"attempt", job.attempt}, {"nodes", nodes}, {"edges", edges},
            {"subtasks", subtasks}};
  }

  static std::string promLabel(const std::string& v) {
    std::string out;
    for (char c : v) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    return out;
  }

  static std::string promNumber(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
  }

  struct ClusterCounts {
    int taskmanagers = 0;  // registered and not lost
    int slots = 0;         // offered by those
    int jobsRunning = 0;
  };
  /// What /v1/overview and /metrics both report about the cluster.
  ClusterCounts clusterCounts() const {
    ClusterCounts c;
    for (const auto& [n, tm] : tms_)
      if (tm.state != "LOST") {
        ++c.taskmanagers;
        c.slots += tm.slots;
      }
    for (const auto& [id, j] : jobs_)
      if (j.state == JobState::Running) ++c.jobsRunning;
    return c;
  }

  /// GET /metrics: Prometheus text format (0.0.4) of the cluster and every running job.
  std::string prometheus() const {
    std::string out;
    auto family = [&](const char* name, const char* type, const char* help) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    };
    const auto [live, total, running] = clusterCounts();
    family("weir_taskmanagers", "gauge", "TaskManagers registered and not lost.");
    out += "weir_taskmanagers " + std::to_string(live) + "\n";
    family("weir_slots_total", "gauge", "Slots offered by live TaskManagers.");
    out += "weir_slots_total " + std::to_string(total) + "\n";
    family("weir_slots_available", "gauge", "Slots not used by a job.");
    out += "weir_slots_available " + std::to_string(freeSlots()) + "\n";
    family("weir_jobs_running", "gauge", "Jobs in status RUNNING.");
    out += "weir_jobs_running " + std::to_string(running) + "\n";

    std::vector<json> views;
    for (const auto& id : jobOrder_) {
      const JobInfo& j = jobs_.at(id);
      if (j.state == JobState::Running && !j.metricsLatest.empty()) views.push_back(metricsJson(j));
    }
    struct OpCounter {
      const char* metric;
      const char* field;
      const char* help;
    };
    for (const OpCounter c : {OpCounter{"weir_subtask_records_in_total", "records_in", "Records into an operator of a subtask."},
                              OpCounter{"weir_subtask_records_out_total", "records_out", "Records out of an operator of a subtask."},
                              OpCounter{"weir_subtask_bytes_in_total", "bytes_in", "Bytes into an operator of a subtask."},
                              OpCounter{"weir_subtask_bytes_out_total", "bytes_out", "Bytes out of an operator of a subtask."},
                              OpCounter{"weir_subtask_dead_letters_total", "dead_letters", "Dead letters of an operator of a subtask."}}) {
      family(c.metric, "counter", c.help);
      for (const auto& v : views)
        for (const auto& st : v["subtasks"])
          for (const auto& o : st["operators"])
            out += std::string(c.metric) + "{job=\"" + promLabel(v.value("job", "")) + "\",node=\"" +
                   promLabel(o.value("node", "")) + "\",subtask=\"" + std::to_string(st.value("subtask", 0)) +
                   "\"} " + std::to_string(o.value(c.field, std::int64_t{0})) + "\n";
    }
    struct SubGauge {
      const char* metric;
      const char* type;
      const char* field;
      double scale;
      const char* help;
    };
    for (const SubGauge g : {SubGauge{"weir_subtask_busy_ratio", "gauge", "busy_ms_per_s", 1e-3, "Share of the last report interval a subtask was busy."},
                             SubGauge{"weir_subtask_backpressured_ratio", "gauge", "backpressured_ms_per_s", 1e-3, "Share of the last report interval a subtask was blocked on output."},
                             SubGauge{"weir_subtask_idle_ratio", "gauge", "idle_ms_per_s", 1e-3, "Share of the last report interval a subtask waited for input."},
                             SubGauge{"weir_subtask_busy_ms_total", "counter", "busy_ms", 1, "Milliseconds a subtask was busy."},
                             SubGauge{"weir_subtask_backpressured_ms_total", "counter", "backpressured_ms", 1, "Milliseconds a subtask was backpressured."},
                             SubGauge{"weir_subtask_idle_ms_total", "counter", "idle_ms", 1, "Milliseconds a subtask was idle."},
                             SubGauge{"weir_subtask_input_usage", "gauge", "input_usage", 1, "Input queue usage, 0 to 1."},
                             SubGauge{"weir_subtask_output_usage", "gauge", "output_usage", 1, "Output queue usage, 0 to 1."}}) {
      family(g.metric, g.type, g.help);
      for (const auto& v : views)
        for (const auto& st : v["subtasks"])
          out += std::string(g.metric) + "{job=\"" + promLabel(v.value("job", "")) + "\",chain=\"" +
                 promLabel(st.value("name", "")) + "\",subtask=\"" + std::to_string(st.value("subtask", 0)) +
                 "\"} " + promNumber(st.value(g.field, 0.0) * g.scale) + "\n";
    }
    for (const char* w : {"input_watermark", "output_watermark"}) {
      const std::string metric = std::string("weir_subtask_") + w;
      family(metric.c_str(), "gauge", "Event-time watermark in ms since the epoch (absent before the first).");
      for (const auto& v : views)
        for (const auto& st : v["subtasks"])
          if (st[w].is_number())
            out += metric + "{job=\"" + promLabel(v.value("job", "")) + "\",chain=\"" + promLabel(st.value("name", "")) +
                   "\",subtask=\"" + std::to_string(st.value("subtask", 0)) + "\"} " +
                   std::to_string(st[w].get<std::int64_t>()) + "\n";
    }
    for (auto [metric, field, help] : {std::tuple{"weir_edge_records_total", "records", "Records sent through a plan edge."},
                                       std::tuple{"weir_edge_bytes_total", "bytes", "Bytes sent through a plan edge."}}) {
      family(metric, "counter", help);
      for (const auto& v : views)
        for (const auto& e : v["edges"])
          out += std::string(metric) + "{job=\"" + promLabel(v.value("job", "")) + "\",from=\"" +
                 promLabel(e.value("from", "")) + "\",from_port=\"" + promLabel(e.value("from_port", "")) +
                 "\",to=\"" + promLabel(e.value("to", "")) + "\",to_port=\"" + promLabel(e.value("to_port", "")) +
                 "\"} " + std::to_string(e.value(field, std::int64_t{0})) + "\n";
    }
    // Per job that takes checkpoints or has restarted (running or not: a failed job's
    // figures still tell why): checkpoints of its current attempt, restarts overall.
    family("weir_job_restarts_total", "counter", "Restarts of a job (attempts after the first).");
    for (const auto& id : jobOrder_) {
      const JobInfo& j = jobs_.at(id);
      out += "weir_job_restarts_total{job=\"" + promLabel(j.id) + "\",name=\"" + promLabel(j.name) + "\"} " +
             std::to_string(j.restarts.restarts()) + "\n";
    }
    struct CpFigure {
      const char* metric;
      const char* type;
      const char* help;
    };
    const CpFigure figures[] = {
        {"weir_job_checkpoints_completed_total", "counter", "Checkpoints completed by the job's current attempt."},
        {"weir_job_checkpoints_failed_total", "counter", "Checkpoints failed (aborted) in the job's current attempt."},
        {"weir_job_last_checkpoint_duration_ms", "gauge", "Trigger to completion of the job's last completed checkpoint."},
        {"weir_job_last_checkpoint_size_bytes", "gauge", "Bytes written by the job's last completed checkpoint."},
        {"weir_job_last_checkpoint_alignment_ms", "gauge", "Longest barrier alignment of the job's last completed checkpoint."},
        {"weir_job_last_checkpoint_restored", "gauge", "Id of the checkpoint the current attempt restored from (-1: none)."}};
    for (std::size_t f = 0; f < std::size(figures); ++f) {
      family(figures[f].metric, figures[f].type, figures[f].help);
      for (const auto& id : jobOrder_) {
        const JobInfo& j = jobs_.at(id);
        if (!j.coordinator) continue;
        std::int64_t completed = 0, failed = 0;
        const CheckpointRecord* last = nullptr;
        for (const auto& r : j.coordinator->history()) {
          if (r.status == CheckpointStatus::Failed) ++failed;
          if (r.status != CheckpointStatus::Completed) continue;
          ++completed;
          last = &r;
        }
        std::int64_t v = 0;
        switch (f) {
          case 0: v = completed; break;
          case 1: v = failed; break;
          case 2: v = last ? last->endedAt - last->triggeredAt : 0; break;
          case 3: v = last ? last->bytes : 0; break;
          case 4: v = last ? last->maxAlignmentMs : 0; break;
          default: v = j.restoredFrom; break;
        }
        if (f >= 2 && f <= 4 && !last) continue;  // no checkpoint yet: no figure rather than a false 0
        out += std::string(figures[f].metric) + "{job=\"" + promLabel(j.id) + "\"} " + std::to_string(v) + "\n";
      }
    }
    return out;
  }

  int freeSlots() const {
    int n = 0;
    for (const auto& [name, tm] : tms_)
      if (tm.state != "LOST") n += tm.slots - tm.slotsUsed;
    return n;
  }

  /// Deploys every waiting job that fits now, in submission order: CREATED ones, and
  /// RESTARTING ones whose restart delay has passed. One that does not fit says why.
  void schedule() {
    const auto now = Clock::now();
    for (const auto& id : jobOrder_) {
      JobInfo& job = jobs_.at(id);
      if (job.state != JobState::Created && job.state != JobState::Restarting) continue;
      if (job.state == JobState::Restarting && now < job.restartAt) continue;
      const int free = freeSlots();
      if (free < job.slotsNeeded) {
        job.reason = "waiting for slots: needs " + std::to_string(job.slotsNeeded) + ", " + std::to_string(free) +
                     " available";
        continue;
      }
      deploy(job);
    }
  }

  /// Deploys the next attempt of the job: slots, placement, then one `deploy` message per
  /// TaskManager carrying the plan and its ExecutionGraph (channels are keyed by job,
  /// attempt and the graph's channel index, so nothing of an earlier attempt or an earlier
  /// JobManager's numbering can clash).
  void deploy(JobInfo& job) {
    ++job.attempt;
    job.attemptExceptions = 0;
    job.attemptStartedMs = wallClockMs();
    job.metricsLatest.clear();  // figures start again with the attempt
    job.metricsPrevious.clear();
    // Slot sharing: job slot s holds subtask s of every vertex; slots go round robin over
    // the TaskManagers that have one free, in registration order.
    std::vector<std::string> slotTm;
    std::size_t cursor = 0;
    job.slotsByTm.clear();
    while (static_cast<int>(slotTm.size()) < job.slotsNeeded) {
      const std::string& name = tmOrder_[cursor++ % tmOrder_.size()];
      TmInfo& tm = tms_[name];
      if (tm.state == "LOST" || tm.slotsUsed >= tm.slots) continue;
      ++tm.slotsUsed;
      ++job.slotsByTm[name];
      slotTm.push_back(name);
    }
    std::vector<std::vector<std::string>> placement(job.graph.vertices.size());
    job.subtasks.clear();
    for (std::size_t v = 0; v < job.graph.vertices.size(); ++v)
      for (int s = 0; s < job.graph.vertices[v].parallelism; ++s) {
        placement[v].push_back(slotTm[static_cast<std::size_t>(s)]);
        job.subtasks.push_back(
            {static_cast<int>(v), s, slotTm[static_cast<std::size_t>(s)], SubtaskState::Deploying, ""});
      }
    json tms = json::object();
    for (const auto& [name, n] : job.slotsByTm)
      tms[name] = {{"host", tms_[name].dataHost}, {"port", tms_[name].dataPort}};
    json taps = json::array();
    for (const auto& [edge, t] : job.taps) taps.push_back(edge);
    json msg{{"type", "deploy"},         {"job", job.id},           {"attempt", job.attempt},
             {"plan", planToJson(job.plan)}, {"graph", job.graph.toJson()}, {"placement", placement},
             {"taskmanagers", tms},      {"taps", taps}};
    if (job.plan.checkpointing()) msg["checkpoint"] = prepareCheckpoints(job);
    job.reason.clear();
    setState(job, JobState::Running);
    for (const auto& [name, n] : job.slotsByTm) {
      TmInfo& tm = tms_[name];
      if (job.plugins.empty()) {
        tm.conn->send(msg);
        continue;
      }
      // The plugin libraries this TaskManager has not got yet travel with the deployment.
      json withPlugins = msg;
      json& shipped = withPlugins["plugins"] = json::array();
      for (const auto& [sha, blob] : job.plugins)
        if (tm.pluginHashes.insert(sha).second) shipped.push_back(pluginToJson(blob));
      tm.conn->send(withPlugins);
    }
    logLine("info", "jobmanager", "job deployed",
            {{"job", job.id}, {"attempt", job.attempt}, {"slots", job.slotsNeeded},
             {"taskmanagers", job.slotsByTm.size()}, {"channels", job.graph.channels.size()}});
  }

  // ---- checkpoints (docs/fault-tolerance.md) ---------------------------------------------

  /// A new attempt of a checkpointed job: its coordinator, and the latest completed
  /// checkpoint it restores from (none: it starts from its sources). Returns the deploy
  /// message's `checkpoint` part.
  json prepareCheckpoints(JobInfo& job) {
    job.checkpointDir = std::filesystem::absolute(flags_.dataDir) / "checkpoints" / job.id;
    std::error_code ec;
    std::filesystem::create_directories(job.checkpointDir, ec);
    json cp{{"dir", job.checkpointDir.string()}, {"restore", nullptr}};
    job.restoredFrom = -1;
    std::optional<std::filesystem::path> latest = latestCompletedCheckpoint(job.checkpointDir);
    if (!latest && !job.initialRestore.empty()) latest = job.initialRestore;  // before its first checkpoint
    std::optional<RestoreSource> restore;
    if (latest) {
      try {
        const CheckpointMetadata meta = readCheckpointMetadata(*latest);
        restore = RestoreSource{*latest, meta};
        cp["restore"] = latest->string();
        job.restoredFrom = meta.id;
        meta_.restored(job.id, job.attempt, meta.id, latest->string(), wallClockMs());
        logLine("info", "jobmanager", "attempt restores from checkpoint",
                {{"job", job.id}, {"attempt", job.attempt}, {"checkpoint", meta.id}, {"path", latest->string()}});
      } catch (const std::exception& e) {
        logLine("error", "jobmanager", "latest checkpoint unreadable; starting from the sources",
                {{"job", job.id}, {"error", e.what()}});
      }
    }
    job.coordinator = std::make_unique<CheckpointCoordinator>(CheckpointSettings::fromJson(job.plan.checkpoint), job.plan,
                                                              checkpointTasks(job.graph), job.checkpointDir, job.id,
                                                              job.attempt, job.restoredFrom + 1,
                                                              restore ? &*restore : nullptr);
    // A checkpoint is complete only once the metadata has recorded it (a failed or stuck
    // write aborts it); the wait is bounded so a locked database cannot stall the JobManager.
    job.coordinator->setCompletionGuard([this, id = job.id](const CheckpointRecord& r) {
      return meta_.checkpointRecorded(id, checkpointRow(r), std::chrono::milliseconds(2000));
    });
    return cp;
  }

  /// Every subtask of the attempt runs or has finished: checkpoints and savepoints can be
  /// taken (a subtask still deploying would miss its trigger).
  static bool allSubtasksUp(const JobInfo& job) {
    return std::all_of(job.subtasks.begin(), job.subtasks.end(), [](const SubtaskInfo& s) {
      return s.state == SubtaskState::Running || s.state == SubtaskState::Finished;
    });
  }

  /// Every few ms: starts the checkpoints that are due (a job whose subtasks all run, or
  /// have finished) and aborts those that timed out.
  awaitable<void> checkpointTicker() {
    asio::steady_timer t(io_);
    while (!stopping_) {
      t.expires_after(std::chrono::milliseconds(10));
      error_code ec;
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
      const std::int64_t now = wallClockMs();
      for (auto& [id, job] : jobs_) {
        if (job.state != JobState::Running || !job.coordinator) continue;
        if (!allSubtasksUp(job)) continue;
        std::vector<CheckpointCoordinator::Outcome> aborted;
        auto trigger = job.coordinator->tick(now, aborted);
        for (const auto& o : aborted) checkpointEnded(job, o);
        if (trigger) sendTrigger(job, *trigger);
      }
    }
  }

  void sendTrigger(JobInfo& job, const CheckpointCoordinator::Trigger& t) {
    std::map<std::string, json> byTm;
    for (const auto& target : t.targets) {
      const int v = job.graph.vertexIndex(target.vertex);
      for (const auto& st : job.subtasks)
        if (st.vertex == v && st.index == target.subtask)
          byTm[st.tm].push_back({{"vertex", target.vertex}, {"subtask", target.subtask}});
    }
    for (auto& [tm, targets] : byTm) {
      auto it = tms_.find(tm);
      if (it == tms_.end() || it->second.state == "LOST" || !it->second.conn) continue;
      it->second.conn->send({{"type", "trigger_checkpoint"}, {"job", job.id}, {"attempt", job.attempt},
                             {"checkpoint", t.id}, {"timestamp", t.timestamp}, {"targets", std::move(targets)}});
    }
    recordCheckpoint(job, t.id);
  }

  /// A checkpoint completed or was aborted: the subtasks hear it (a completion lets the
  /// sinks publish), the metadata records it.
  void checkpointEnded(JobInfo& job, const CheckpointCoordinator::Outcome& o) {
    if (o.id == job.stopWithSavepoint) {
      job.stopWithSavepoint = -1;
      if (o.completed) {
        for (const auto& r : job.coordinator->history())
          if (r.id == o.id) job.stoppedWithSavepoint = r.path;
      } else {
        logLine("warn", "jobmanager", "stop with savepoint failed; the job goes on", {{"job", job.id}, {"reason", o.reason}});
      }
    }
    for (const auto& [name, n] : job.slotsByTm) {
      auto it = tms_.find(name);
      if (it == tms_.end() || it->second.state == "LOST" || !it->second.conn) continue;
      it->second.conn->send({{"type", o.completed ? "checkpoint_complete" : "checkpoint_aborted"},
                             {"job", job.id},
                             {"attempt", job.attempt},
                             {"checkpoint", o.id}});
    }
    recordCheckpoint(job, o.id);
    if (o.completed)
      logLine("info", "jobmanager", "checkpoint completed", {{"job", job.id}, {"checkpoint", o.id}});
    else
      logLine("warn", "jobmanager", "checkpoint failed", {{"job", job.id}, {"checkpoint", o.id}, {"reason", o.reason}});
    // Stopped with a savepoint: the sinks heard of its completion (above) and published
    // up to it; what came after it is canceled, unpublished.
    if (!job.stoppedWithSavepoint.empty() && job.state == JobState::Running) cancel(job);
  }

  /// POST /v1/jobs/{id}/savepoints (and .../stop with {"savepoint": true}): a savepoint of
  /// the running attempt, written to <data dir>/savepoints/<job>/savepoint-<id>.
  json triggerSavepoint(JobInfo& job, bool thenStop, int& status) {
    if (!job.plan.checkpointing()) {
      status = 409;
      return {{"error", "job " + job.id + " takes no checkpoints (it has no checkpoint object), so its operators "
                        "keep no snapshots to save: add a checkpoint object to take savepoints"}};
    }
    const bool allUp = allSubtasksUp(job);
    if (job.state != JobState::Running || !job.coordinator || !allUp) {
      status = 409;
      return {{"error", "job " + job.id + " is " + job.status() + (allUp ? "" : " (its subtasks are still starting)") +
                        ": a savepoint needs it running"}};
    }
    const auto root = std::filesystem::absolute(flags_.dataDir) / "savepoints" / job.id;
    const auto t = job.coordinator->triggerSavepoint(wallClockMs(), root);
    if (thenStop) job.stopWithSavepoint = t.id;
    sendTrigger(job, t);
    logLine("info", "jobmanager", thenStop ? "stop with savepoint" : "savepoint triggered",
            {{"job", job.id}, {"savepoint", t.id}});
    status = 202;
    return {{"job", job.id}, {"savepoint", t.id}, {"path", (root / ("savepoint-" + std::to_string(t.id))).string()},
            {"status", "IN_PROGRESS"}};
  }

  static CheckpointRow checkpointRow(const CheckpointRecord& r) {
    CheckpointRow row;
    row.id = r.id;
    row.attempt = r.attempt;
    row.kind = r.kind;
    row.status = std::string(checkpointStatusName(r.status));
    row.triggeredMs = r.triggeredAt;
    row.endedMs = r.endedAt;
    row.bytes = r.bytes;
    row.acknowledged = r.acknowledged;
    row.total = r.total;
    row.maxSyncMs = r.maxSyncMs;
    row.maxAsyncMs = r.maxAsyncMs;
    row.maxAlignmentMs = r.maxAlignmentMs;
    row.failure = r.failure;
    row.path = r.path;
    if (r.status == CheckpointStatus::Completed)
      for (const auto& a : r.acks)
        row.subtasks.push_back({a.vertex, a.subtask, a.stateBytes, a.syncMs, a.asyncMs, a.alignmentMs, a.finished});
    return row;
  }

  void recordCheckpoint(const JobInfo& job, std::int64_t id) {
    for (const auto& r : job.coordinator->history())
      if (r.id == id) meta_.checkpoint(job.id, checkpointRow(r));
  }

  /// The subtask (vertex id, index) of the job's current attempt, if it runs on `tm`.
  static bool placedOn(const JobInfo& job, const std::string& vertex, int index, const std::string& tm) {
    const int v = job.graph.vertexIndex(vertex);
    return std::any_of(job.subtasks.begin(), job.subtasks.end(),
                       [&](const SubtaskInfo& s) { return s.vertex == v && s.index == index && s.tm == tm; });
  }

  /// `checkpoint_ack` / `checkpoint_decline` from TaskManager `tm`, believed only for the
  /// current attempt and from where the subtask runs.
  void onCheckpointMessage(const std::string& type, const json& m, const std::string& tm) {
    auto it = jobs_.find(m.value("job", ""));
    if (it == jobs_.end()) return;
    JobInfo& job = it->second;
    if (m.value("attempt", -1) != job.attempt || !job.coordinator || job.state != JobState::Running) return;
    const std::int64_t now = wallClockMs();
    if (type == "checkpoint_ack") {
      const SubtaskAck ack = SubtaskAck::fromJson(m.at("ack"));
      if (!placedOn(job, ack.vertex, ack.subtask, tm)) return;
      std::vector<CheckpointCoordinator::Outcome> aborted;
      auto done = job.coordinator->acknowledge(ack, now, aborted);
      for (const auto& o : aborted) checkpointEnded(job, o);
      if (done) checkpointEnded(job, *done);
      return;
    }
    if (!placedOn(job, m.value("vertex", ""), m.value("subtask", -1), tm)) return;
    const std::string reason = m.value("vertex", "") + "[" + std::to_string(m.value("subtask", -1)) + "] declined: " +
                               m.value("reason", "");
    if (auto o = job.coordinator->decline(m.value("checkpoint", std::int64_t{-1}), reason, now)) checkpointEnded(job, *o);
  }

  /// GET /v1/jobs/{id}/checkpoints: counts, min/avg/max of duration and size over the
  /// completed ones, the latest completed, failed and restored, and the history (newest
  /// last) with per-subtask details of completed ones. From the metadata, so the
  /// checkpoints of every attempt and of an earlier JobManager's life are there.
  json checkpointsJson(const std::string& id, const JobInfo* job) {
    const auto rows = meta_.checkpoints(id, 100);
    json history = json::array();
    int completed = 0, failed = 0, inProgress = 0;
    std::int64_t minD = INT64_MAX, maxD = 0, sumD = 0, minB = INT64_MAX, maxB = 0, sumB = 0;
    json latestCompleted, latestFailed;
    for (const auto& r : rows) {
      json subs = json::array();
      for (const auto& s : r.subtasks)
        subs.push_back({{"vertex", s.vertex}, {"subtask", s.subtask}, {"bytes", s.bytes}, {"sync_ms", s.syncMs},
                        {"async_ms", s.asyncMs}, {"alignment_ms", s.alignmentMs}, {"finished", s.finished}});
      json h{{"id", r.id},
             {"attempt", r.attempt},
             {"kind", r.kind},
             {"status", r.status},
             {"triggered_ms", r.triggeredMs},
             {"ended_ms", r.endedMs ? json(r.endedMs) : json()},
             {"duration_ms", r.endedMs ? json(r.endedMs - r.triggeredMs) : json()},
             {"bytes", r.bytes},
             {"acknowledged", r.acknowledged},
             {"total", r.total},
             {"max_sync_ms", r.maxSyncMs},
             {"max_async_ms", r.maxAsyncMs},
             {"max_alignment_ms", r.maxAlignmentMs},
             {"failure", r.failure.empty() ? json() : json(r.failure)},
             {"path", r.path},
             {"subtasks", subs}};
      if (r.status == "COMPLETED") {
        ++completed;
        const std::int64_t d = r.endedMs - r.triggeredMs;
        minD = std::min(minD, d);
        maxD = std::max(maxD, d);
        sumD += d;
        minB = std::min(minB, r.bytes);
        maxB = std::max(maxB, r.bytes);
        sumB += r.bytes;
        latestCompleted = h;
      } else if (r.status == "FAILED") {
        ++failed;
        latestFailed = h;
      } else {
        ++inProgress;
      }
      history.push_back(std::move(h));
    }
    auto stat = [&](std::int64_t mn, std::int64_t mx, std::int64_t sum) -> json {
      if (completed == 0) return nullptr;
      return {{"min", mn}, {"avg", sum / completed}, {"max", mx}};
    };
    json restored = nullptr;
    if (job && job->restoredFrom >= 0) restored = {{"id", job->restoredFrom}, {"attempt", job->attempt}};
    json settings = job && job->plan.checkpointing() ? job->plan.checkpoint : json();
    return {{"job", id},
            {"settings", settings},
            {"counts", {{"completed", completed}, {"failed", failed}, {"in_progress", inProgress}}},
            {"summary", {{"duration_ms", stat(minD, maxD, sumD)}, {"bytes", stat(minB, maxB, sumB)}}},
            {"latest", {{"completed", latestCompleted}, {"failed", latestFailed}, {"restored", restored}}},
            {"history", history}};
  }

  void resumeOpenRuns() {
    int settled = 0;
    for (const OpenRun& run : meta_.openRuns()) {
      std::string why = "the JobManager stopped while the job ran";
      try {
        const auto dir = std::filesystem::absolute(flags_.dataDir) / "checkpoints" / run.id;
        Diagnostics diags;
        auto graph = parseJob(run.jobFile, "stored job " + run.id, diags);
        std::optional<JobPlan> plan;
        json restart;
        if (graph && diags.empty()) {
          graph->baseDir = run.baseDir;
          const ValidatedJob v = validateJob(*graph, diags);
          if (v.ok && diags.empty()) plan = planJob(*graph, v);
          restart = v.restart;
        }
        if (!plan) why += "; its stored job file no longer validates, so it was not resumed";
        else if (!plan->checkpointing()) why += "; it takes no checkpoints, so it was not resumed";
        else if (!latestCompletedCheckpoint(dir)) why += "; it had no completed checkpoint, so it was not resumed";
        else {
          JobInfo job;
          if (std::string err = collectPlugins(*plan, job.plugins); !err.empty()) throw std::runtime_error(err);
          job.id = run.id;
          job.key = std::stoull(run.id, nullptr, 16);
          job.name = run.name;
          job.jobFile = parseJsonBounded(run.jobFile);
          job.plan = std::move(*plan);
          job.graph = ExecutionGraph::build(job.plan);
          job.slotsNeeded = job.graph.slotsNeeded();
          job.restarts = RestartTracker(RestartStrategy::fromJson(restart));
          job.submittedMs = run.submittedMs;
          job.attempt = run.lastAttempt;  // the next deployment is attempt lastAttempt + 1
          meta_.runStatus(run.id, "CREATED");
          logLine("info", "jobmanager", "resuming a job an earlier JobManager ran",
                  {{"job", run.id}, {"name", run.name}, {"from", dir.string()}});
          jobs_.emplace(run.id, std::move(job));
          jobOrder_.push_back(run.id);
          continue;
        }
      } catch (const std::exception& e) {
        why += std::string("; resuming it failed: ") + e.what();
      }
      meta_.settleRun(run.id, why);
      ++settled;
    }
    if (settled) logLine("warn", "jobmanager", "settled runs left open by an earlier JobManager", {{"runs", settled}});
  }

  /// POST /v1/jobs: the job file as JSON; nullopt + error on refusal.
  json submit(const std::string& body, const std::map<std::string, std::string>& query, int& status) {
    Diagnostics diags;
    auto graph = parseJob(body, "submitted job", diags);
    const std::string id = newJobId();
    if (graph) {
      std::filesystem::path base;
      if (auto it = query.find("base_dir"); it != query.end()) base = it->second;
      else base = std::filesystem::absolute(flags_.dataDir) / "jobs" / id;
      if (!base.is_absolute()) {
        status = 400;
        return {{"error", "base_dir must be an absolute path"}};
      }
      graph->baseDir = base;
      JobOverrides ov;
      if (auto it = query.find("parallelism"); it != query.end()) {
        ov.parallelism = queryInt(it->second, 1, kMaxParallelism);
        if (!ov.parallelism) {
          status = 400;
          return {{"error", "parallelism must be a whole number from 1 to " + std::to_string(kMaxParallelism)}};
        }
      }
      applyOverrides(*graph, ov, diags);
    }
    std::optional<JobPlan> plan;
    json validatedRestart;
    if (graph && diags.empty()) {
      const ValidatedJob v = validateJob(*graph, diags);
      if (v.ok && diags.empty()) plan = planJob(*graph, v);
      validatedRestart = v.restart;
    }
    if (!plan) {
      json problems = json::array();
      for (const auto& d : diags) problems.push_back(d.toString());
      status = 400;
      return {{"error", "the job is not valid"}, {"problems", problems}};
    }
    for (const auto& n : plan->nodes)
      if (std::string where = nonUtf8Path(n.params); !where.empty()) {
        // Bytes from the file system (a file name a glob matched) cannot travel as JSON.
        status = 400;
        return {{"error", "node " + n.id + ": params" + where +
                              " is not UTF-8 (a file name matched by a glob?): rename it, a job's text must be UTF-8"}};
      }
    for (const auto& n : plan->nodes)
      if (!OperatorRegistry::builtin().find(n.type)) {
        status = 400;
        return {{"error", "operator type '" + n.type + "' (node " + n.id + ") cannot run yet in this version"}};
      }
    JobInfo job;
    if (std::string err = collectPlugins(*plan, job.plugins); !err.empty()) {
      status = 400;
      return {{"error", err}};
    }
    if (auto sp = query.find("from_savepoint"); sp != query.end()) {
      // The savepoint must fit the job node by node (runtime/savepoint_check.h).
      const bool allow = query.count("allow_non_restored_state") && query.at("allow_non_restored_state") == "true";
      try {
        if (!plan->checkpointing()) throw std::runtime_error("the job takes no checkpoints: add a checkpoint object to restore state");
        const CheckpointMetadata meta = readCheckpointMetadata(sp->second);
        const SavepointReport report = checkSavepoint(*plan, meta, allow);
        if (!report.restorable) {
          json problems = json::array();
          for (const auto& n : report.nodes) problems.push_back(n.node + ": " + n.verdict + (n.detail.empty() ? "" : " (" + n.detail + ")"));
          status = 400;
          return {{"error", "the savepoint " + sp->second + " does not fit the job"}, {"problems", problems}};
        }
        job.initialRestore = sp->second;
      } catch (const std::exception& e) {
        status = 400;
        return {{"error", std::string("cannot restore from ") + sp->second + ": " + e.what()}};
      }
    }
    job.id = id;
    job.key = std::stoull(id, nullptr, 16);
    job.name = plan->name;
    job.jobFile = parseJsonBounded(body);  // parseJob checked its depth and syntax
    job.plan = std::move(*plan);
    job.graph = ExecutionGraph::build(job.plan);
    job.slotsNeeded = job.graph.slotsNeeded();
    job.restarts = RestartTracker(RestartStrategy::fromJson(validatedRestart));
    std::size_t pluginBytes = 0;
    for (const auto& [sha, blob] : job.plugins) pluginBytes += blob.bytes.size() + blob.name.size() + 128;
    if (const std::size_t bound = deployMessageBound(job.plan, job.graph, pluginBytes); bound > kMaxControlMessage) {
      // No TaskManager could read its deployment: refused here, before it can fail anything.
      status = 413;
      return {{"error", "the job's deployment message could take " + std::to_string(bound) + " bytes, more than the " +
                            std::to_string(kMaxControlMessage) +
                            " a control message may carry (a long name or description, large params, "
                            "or many channels)"}};
    }
    job.submittedMs = wallClockMs();
    if (flags_.refuseWithoutSlots && freeSlots() < job.slotsNeeded) {
      status = 409;
      return {{"error", "not enough free slots: the job needs " + std::to_string(job.slotsNeeded) + ", " +
                            std::to_string(freeSlots()) + " available"}};
    }
    meta_.jobSubmitted(id, job.name, body, job.plan.baseDir.string());
    logLine("info", "jobmanager", "job submitted", {{"job", id}, {"name", job.name}, {"slots", job.slotsNeeded}});
    jobs_.emplace(id, std::move(job));
    jobOrder_.push_back(id);
    schedule();
    status = 201;
    return {{"id", id}, {"name", jobs_.at(id).name}, {"status", jobs_.at(id).status()}};
  }

  json jobJson(const JobInfo& job, bool detail) {
    json j{{"id", job.id},
           {"name", job.name},
           {"status", job.status()},
           {"attempt", job.attempt},
           {"restarts", job.restarts.restarts()},
           {"submitted_ms", job.submittedMs},
           {"started_ms", job.startedMs},
           {"ended_ms", job.endedMs},
           {"slots", job.slotsNeeded}};
    if (!job.reason.empty()) j[waitingReasonKey(job)] = job.reason;
    if (!detail) return j;
    json chains = json::array();
    for (std::size_t c = 0; c < job.graph.vertices.size(); ++c) {
      const ExecutionVertex& v = job.graph.vertices[c];
      json nodes = json::array();
      for (int n : v.nodes) nodes.push_back(job.plan.nodes[static_cast<std::size_t>(n)].id);
      chains.push_back({{"index", c},
                        {"id", v.id},
                        {"name", job.graph.name(job.plan, static_cast<int>(c))},
                        {"nodes", nodes},
                        {"parallelism", v.parallelism}});
    }
    json subtasks = json::array();
    for (const auto& st : job.subtasks) {
      json s{{"chain", st.vertex},
             {"vertex", job.graph.vertices[static_cast<std::size_t>(st.vertex)].id},
             {"subtask", st.index},
             {"taskmanager", st.tm},
             {"state", std::string(stateName(st.state))}};
      if (!st.cause.empty()) s["cause"] = st.cause;
      subtasks.push_back(s);
    }
    j["chains"] = chains;
    j["subtasks"] = subtasks;
    json restarts = json::array();
    for (const auto& r : meta_.restarts(job.id))
      restarts.push_back({{"attempt", r.attempt}, {"time_ms", r.atMs}, {"cause", r.cause}, {"delay_ms", r.delayMs}});
    j["restart_history"] = restarts;
    j["restart_strategy"] = job.restarts.strategy().describe();
    j["checkpointing"] = job.plan.checkpointing();
    j["restored_from"] = job.restoredFrom >= 0 ? json(job.restoredFrom) : json();
    if (!job.stoppedWithSavepoint.empty()) j["stopped_with_savepoint"] = job.stoppedWithSavepoint;
    j["job"] = job.jobFile;
    return j;
  }

  /// GET /v1/jobs/{id}/exceptions: root cause first, then later failures in order.
  json exceptionsJson(const std::string& id) {
    json a = json::array();
    for (const auto& e : meta_.exceptions(id))
      a.push_back({{"root_cause", e.rootCause},
                   {"attempt", e.attempt},
                   {"time_ms", e.atMs},
                   {"message", e.message},
                   {"node", e.node.empty() ? json() : json(e.node)},
                   {"subtask", e.subtask < 0 ? json() : json(e.subtask)},
                   {"taskmanager", e.taskmanager.empty() ? json() : json(e.taskmanager)}});
    return {{"job", id}, {"exceptions", a}};
  }

  // ---- metric history ------------------------------------------------------------------

  awaitable<void> historyRecorder() {
    asio::steady_timer t(io_);
    while (!stopping_) {
      t.expires_after(std::chrono::milliseconds(flags_.metricHistoryIntervalMs));
      error_code ec;
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
      for (auto& [id, job] : jobs_)
        if (job.state == JobState::Running) recordHistory(job);
    }
  }

  /// One metric_history row per node of the job, from the latest reports (none before the
  /// first report).
  void recordHistory(const JobInfo& job) {
    if (job.metricsLatest.empty()) return;
    const json live = liveMetricsJson(job);
    std::vector<HistoryRow> rows;
    const std::int64_t now = wallClockMs();
    for (const auto& v : live["vertices"]) {
      if (v.value("subtasks_reporting", 0) == 0) continue;
      HistoryRow r;
      r.node = v.value("node", "");
      r.atMs = now;
      r.recordsIn = v.value("records_in", std::int64_t{0});
      r.recordsOut = v.value("records_out", std::int64_t{0});
      r.recordsInPerS = v.value("records_in_per_s", 0.0);
      r.recordsOutPerS = v.value("records_out_per_s", 0.0);
      r.busyMsPerSMax = v.value("busy_ms_per_s_max", 0.0);
      r.backpressuredMsPerSMax = v.value("backpressured_ms_per_s_max", 0.0);
      if (v["watermark"].is_number_integer()) r.watermark = v["watermark"].get<std::int64_t>();
      rows.push_back(std::move(r));
    }
    meta_.metricHistory(job.id, rows);
  }

  /// GET /v1/jobs/{id}/metrics/history[?node=X]: per node, parallel arrays in time order.
  json historyJson(const std::string& id, const std::string& node) {
    std::map<std::string, json> series;
    std::vector<std::string> order;
    for (const auto& r : meta_.metricHistory(id, node)) {
      auto [it, added] = series.try_emplace(r.node);
      json& s = it->second;
      if (added) {
        order.push_back(r.node);
        s = {{"node", r.node}};
        for (const char* f : {"time_ms", "records_in", "records_out", "records_in_per_s", "records_out_per_s",
                              "busy_ms_per_s_max", "backpressured_ms_per_s_max", "watermark"})
          s[f] = json::array();
      }
      s["time_ms"].push_back(r.atMs);
      s["records_in"].push_back(r.recordsIn);
      s["records_out"].push_back(r.recordsOut);
      s["records_in_per_s"].push_back(r.recordsInPerS);
      s["records_out_per_s"].push_back(r.recordsOutPerS);
      s["busy_ms_per_s_max"].push_back(r.busyMsPerSMax);
      s["backpressured_ms_per_s_max"].push_back(r.backpressuredMsPerSMax);
      s["watermark"].push_back(r.watermark ? json(*r.watermark) : json());
    }
    json nodes = json::array();
    for (const auto& n : order) nodes.push_back(std::move(series[n]));
    return {{"job", id}, {"interval_ms", flags_.metricHistoryIntervalMs}, {"nodes", nodes}};
  }

  /// GET /v1/jobs?name=NAME: every run of that job name in the metadata, newest first.
  json runsJson(const std::string& name) {
    json a = json::array();
    const std::int64_t now = wallClockMs();
    for (const auto& r : meta_.runsByName(name)) {
      json duration;
      if (r.startedMs) duration = (r.endedMs ? *r.endedMs : now) - *r.startedMs;
      a.push_back({{"id", r.id},
                   {"name", r.name},
                   {"status", r.status},
                   {"submitted_ms", r.submittedMs},
                   {"started_ms", r.startedMs ? json(*r.startedMs) : json()},
                   {"ended_ms", r.endedMs ? json(*r.endedMs) : json()},
                   {"duration_ms", duration}});
    }
    return {{"name", name}, {"jobs", a}};
  }

  // ---- WebSocket: live metrics ----------------------------------------------------------

  /// The status message of GET /v1/jobs/{id}/live.
  json liveStatusJson(const JobInfo& job) const {
    json j{{"type", "status"},           {"job", job.id},
           {"name", job.name},           {"status", job.status()},
           {"time_ms", wallClockMs()},        {"started_ms", job.startedMs},
           {"ended_ms", job.endedMs}};
    if (!job.reason.empty()) j[waitingReasonKey(job)] = job.reason;
    return j;
  }

  /// The metrics message of GET /v1/jobs/{id}/live (docs/api.md): one entry per node and
  /// subtask (the nodes of a chain share its times, queues and watermark), one per plan
  /// edge, and per node aggregates.
  json liveMetricsJson(const JobInfo& job) const {
    const json m = metricsJson(job);
    json subtasks = json::array();
    struct Vertex {
      json j;
      bool any = false;
      bool nullWatermark = false;
      std::int64_t minWatermark = INT64_MAX;
      int holder = -1;
    };
    std::map<std::string, Vertex> vertices;
    for (const auto& n : job.plan.nodes) {
      Vertex v;
      v.j = {{"node", n.id},
             {"type", n.type},
             {"parallelism", n.parallelism},
             {"subtasks_reporting", 0},
             {"records_in", 0},
             {"records_out", 0},
             {"records_in_per_s", 0.0},
             {"records_out_per_s", 0.0},
             {"bytes_in_per_s", 0.0},
             {"bytes_out_per_s", 0.0},
             {"busy_ms_per_s_max", 0.0},
             {"backpressured_ms_per_s_max", 0.0},
             {"input_queue_max", 0.0},
             {"output_queue_max", 0.0}};
      vertices.emplace(n.id, std::move(v));
    }
    for (const auto& st : m["subtasks"]) {
      const json& wm = st["input_watermark"];
      for (const auto& o : st["operators"]) {
        const std::string node = o.value("node", "");
        json e{{"node", node},
               {"chain", st["name"]},
               {"subtask", st["subtask"]},
               {"taskmanager", st["taskmanager"]},
               {"records_in", o["records_in"]},
               {"records_out", o["records_out"]},
               {"records_in_per_s", o["records_in_per_s"]},
               {"records_out_per_s", o["records_out_per_s"]},
               {"bytes_in", o["bytes_in"]},
               {"bytes_out", o["bytes_out"]},
               {"bytes_in_per_s", o["bytes_in_per_s"]},
               {"bytes_out_per_s", o["bytes_out_per_s"]},
               {"dead_letters", o["dead_letters"]},
               {"late_records", o.value("late_records", 0)},
               {"busy_ms_per_s", st["busy_ms_per_s"]},
               {"backpressured_ms_per_s", st["backpressured_ms_per_s"]},
               {"idle_ms_per_s", st["idle_ms_per_s"]},
               {"input_queue", st["input_usage"]},
               {"output_queue", st["output_usage"]},
               {"watermark", wm},
               {"output_watermark", st["output_watermark"]}};
        auto vi = vertices.find(node);
        if (vi != vertices.end()) {
          Vertex& v = vi->second;
          json& a = v.j;
          a["subtasks_reporting"] = a["subtasks_reporting"].get<int>() + 1;
          for (const char* f : {"records_in", "records_out"})
            a[f] = a[f].get<std::int64_t>() + e[f].get<std::int64_t>();
          for (const char* f : {"records_in_per_s", "records_out_per_s", "bytes_in_per_s", "bytes_out_per_s"})
            a[f] = a[f].get<double>() + e[f].get<double>();
          for (auto [max, f] : {std::pair{"busy_ms_per_s_max", "busy_ms_per_s"},
                                std::pair{"backpressured_ms_per_s_max", "backpressured_ms_per_s"},
                                std::pair{"input_queue_max", "input_queue"}, std::pair{"output_queue_max", "output_queue"}})
            a[max] = std::max(a[max].get<double>(), e[f].get<double>());
          // The lowest watermark holds the node back; no watermark yet is the lowest of all.
          const int sub = e["subtask"].get<int>();
          if (!v.nullWatermark) {
            if (!wm.is_number()) {
              v.nullWatermark = true;
              v.holder = sub;
            } else if (wm.get<std::int64_t>() < v.minWatermark) {
              v.minWatermark = wm.get<std::int64_t>();
              v.holder = sub;
            }
          }
          v.any = true;
        }
        subtasks.push_back(std::move(e));
      }
    }
    json vs = json::array();
    for (const auto& n : job.plan.nodes) {
      Vertex& v = vertices.at(n.id);
      v.j["watermark"] = v.any && !v.nullWatermark ? json(v.minWatermark) : json();
      v.j["watermark_subtask"] = v.any ? json(v.holder) : json();
      vs.push_back(std::move(v.j));
    }
    json edges = json::array();
    for (const auto& e : m["edges"])
      edges.push_back({{"edge", e["edge"]},
                       {"from", e["from"]},
                       {"from_port", e["from_port"]},
                       {"to", e["to"]},
                       {"to_port", e["to_port"]},
                       {"partition", e["partition"]},
                       {"chained", e["chained"]},
                       {"records", e["records"]},
                       {"bytes", e["bytes"]},
                       {"records_per_s", e["records_per_s"]},
                       {"bytes_per_s", e["bytes_per_s"]}});
    return {{"type", "metrics"},   {"job", job.id},         {"status", job.status()},
            {"time_ms", wallClockMs()}, {"attempt", job.attempt}, {"restarts", job.restarts.restarts()},
            {"checkpoints", liveCheckpointsJson(job)},
            {"subtasks", subtasks},     {"edges", edges},        {"vertices", vs}};
  }

  /// The `checkpoints` part of a live metrics message: the current attempt's counts, the
  /// newest completed and failed checkpoint, the one in progress, and what the attempt
  /// restored from (null for a job without checkpoints).
  static json liveCheckpointsJson(const JobInfo& job) {
    if (!job.coordinator) return nullptr;
    int completed = 0, failed = 0;
    json lastCompleted, lastFailed, inProgress;
    for (const auto& r : job.coordinator->history()) {
      if (r.status == CheckpointStatus::Completed) {
        ++completed;
        lastCompleted = r.toJson(false);
      } else if (r.status == CheckpointStatus::Failed) {
        ++failed;
        lastFailed = r.toJson(false);
      } else {
        inProgress = r.toJson(false);
      }
    }
    return {{"completed", completed},         {"failed", failed},
            {"latest_completed", lastCompleted}, {"latest_failed", lastFailed},
            {"in_progress", inProgress},      {"restored_from", job.restoredFrom >= 0 ? json(job.restoredFrom) : json()}};
  }

  /// Pushes a metrics message to every live client twice a second (at least once a second
  /// arrives even with a busy io thread); prunes clients that went away.
  awaitable<void> livePublisher() {
    asio::steady_timer t(io_);
    while (!stopping_) {
      t.expires_after(std::chrono::milliseconds(500));
      error_code ec;
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
      for (auto it = live_.begin(); it != live_.end();) {
        auto& clients = it->second;
        clients.erase(std::remove_if(clients.begin(), clients.end(), [](const auto& c) { return c->closed; }),
                      clients.end());
        auto job = jobs_.find(it->first);
        if (clients.empty() || job == jobs_.end()) {
          it = live_.erase(it);
          continue;
        }
        const std::string msg = liveMetricsJson(job->second).dump();
        for (auto& c : clients) {
          if (c->metrics) ++c->replaced;
          c->metrics = msg;
          c->notify();
        }
        ++it;
      }
    }
  }

  /// A job ended: its live clients get a last metrics message, the status, and a close.
  void finishLive(const JobInfo& job) {
    auto it = live_.find(job.id);
    if (it == live_.end()) return;
    const std::string metrics = liveMetricsJson(job).dump();
    const std::string status = liveStatusJson(job).dump();
    for (auto& c : it->second) {
      c->metrics = metrics;
      c->final = status;
      c->notify();
    }
    live_.erase(it);
  }

  template <typename Next>
  awaitable<void> liveSession(Next stream, http::request<http::string_body> req, std::string jobId) {
    auto c = std::make_shared<LiveSocket<Next>>(std::move(stream), std::move(jobId));
    // Close a peer that stops answering pings; a malformed frame fails the read and closes
    // this connection only.
    c->ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(30), std::chrono::seconds(60), true});
    c->ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "weir-jobmanager"); }));
    c->ws.read_message_max(64 * 1024);
    error_code ec;
    co_await c->ws.async_accept(req, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    auto it = jobs_.find(c->job);
    if (it == jobs_.end()) co_return;
    // The current state at once; a job that has ended gets its status and a close.
    c->metrics = liveMetricsJson(it->second).dump();
    if (it->second.terminal()) c->final = liveStatusJson(it->second).dump();
    else live_[c->job].push_back(c);
    asio::co_spawn(io_, liveWriter(c), asio::detached);
    // The reader: answers pings and the close handshake; client messages are ignored.
    beast::flat_buffer buf;
    for (;;) {
      co_await c->ws.async_read(buf, asio::redirect_error(use_awaitable, ec));
      if (ec) break;
      buf.consume(buf.size());
    }
    c->closed = true;
    c->notify();
  }

  template <typename Next>
  awaitable<void> liveWriter(std::shared_ptr<LiveSocket<Next>> c) {
    error_code ec;
    while (!c->closed) {
      if (c->metrics || c->final) {
        const bool last = !c->metrics;
        std::string msg = last ? std::move(*c->final) : std::move(*c->metrics);
        if (last) c->final.reset();
        else c->metrics.reset();
        c->ws.text(true);
        auto buffer = asio::buffer(msg);
        co_await c->ws.async_write(buffer, asio::redirect_error(use_awaitable, ec));
        if (ec) break;
        if (last) {
          websocket::close_reason reason(websocket::close_code::normal, "job " + c->job + " ended");
          co_await c->ws.async_close(reason, asio::redirect_error(use_awaitable, ec));
          break;
        }
        continue;
      }
      c->wake.expires_at(asio::steady_timer::time_point::max());
      co_await c->wake.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    c->closed = true;
    if (ec) beast::get_lowest_layer(c->ws).close();  // the reader ends too
  }

  // ---- HTTP API -----------------------------------------------------------------------

  awaitable<void> acceptApi() {
    net::AcceptBackoff backoff;
    while (!stopping_) {
      error_code ec;
      tcp::socket s = co_await api_.async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (stopping_) co_return;
        co_await backoff.failed(ec, [](const std::string& m) { logLine("error", "jobmanager", "API port: " + m); });
        continue;
      }
      backoff.succeeded();
      if (apiConnections_ >= kMaxApiConnections) {
        refuseOverCap(s, "API connections", kMaxApiConnections);
        continue;
      }
      asio::co_spawn(io_, httpSession(std::move(s)), asio::detached);
    }
  }

  /// One API connection. Its first bytes tell a TLS client from a plain one: with TLS on,
  /// a plain request gets a 400 that says to use https://; with TLS off, a TLS client is
  /// logged and closed (it could not read an answer).
  awaitable<void> httpSession(tcp::socket socket) {
    CountedConnection counted(apiConnections_);
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    error_code ec;
    stream.expires_after(std::chrono::seconds(60));
    const bool tlsHello = co_await beast::async_detect_ssl(stream, buffer, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    const std::string peer = endpointOf(stream.socket());
    if (!apiTls_) {
      if (tlsHello) {
        logLine("warn", "jobmanager", "API connection refused: the client started TLS, but TLS is off here",
                {{"peer", peer}});
        co_return;
      }
      co_await serveHttp(stream, buffer);
      co_return;
    }
    if (!tlsHello) {
      logLine("warn", "jobmanager", "API connection refused: plain HTTP, but TLS is required (https://)",
              {{"peer", peer}});
      co_await refusePlainHttp(stream, buffer);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), *apiTls_);
    const auto already = buffer.data();
    const std::size_t used = co_await tls.async_handshake(asio::ssl::stream_base::server, already,
                                                          asio::redirect_error(use_awaitable, ec));
    if (ec) {
      logLine("warn", "jobmanager", "API connection refused: TLS handshake failed",
              {{"peer", peer}, {"reason", net::tlsFailure(ec, tls.native_handle())}});
      co_return;
    }
    buffer.consume(used);
    co_await serveHttp(tls, buffer);
  }

  static std::string endpointOf(const tcp::socket& s) {
    error_code ec;
    const auto ep = s.remote_endpoint(ec);
    return ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  /// A plain request on the TLS API port: read it (a close with unread bytes would reset
  /// the connection before the client reads the answer), answer 400, close.
  awaitable<void> refusePlainHttp(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
    http::request_parser<http::empty_body> parser;
    parser.eager(false);
    error_code ec;
    stream.expires_after(std::chrono::seconds(10));
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    http::response<http::string_body> res{http::status::bad_request, 11};
    res.set(http::field::server, "weir-jobmanager");
    res.set(http::field::content_type, "application/json");
    res.keep_alive(false);
    res.body() = json{{"error", "this JobManager serves its API over TLS only: use https:// (and the cluster's CA)"}}
                     .dump() +
                 "\n";
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  }

  /// Requests and answers on one connection (plain or TLS) until it closes or upgrades.
  template <typename Stream>
  awaitable<void> serveHttp(Stream& stream, beast::flat_buffer& buffer) {
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxRequestBody);
      parser.header_limit(static_cast<std::uint32_t>(kMaxRequestHeader));
      error_code ec;
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        // A request too large or malformed is answered (and the connection closed); a
        // peer that went away or timed out is not.
        std::string why;
        if (const int status = readErrorStatus(ec, why)) {
          http::response<http::string_body> res{static_cast<http::status>(status), 11};
          res.set(http::field::server, "weir-jobmanager");
          res.set(http::field::content_type, "application/json");
          res.keep_alive(false);
          res.body() = dumpJson(json{{"error", why}}) + "\n";
          res.prepare_payload();
          co_await http::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
        }
        break;
      }
      auto req = parser.release();
      std::string liveJob;
      http::response<http::string_body> res = handle(req, liveJob);
      if (!liveJob.empty()) {
        // Authorized, and the job exists: upgrade (the client waits for the 101 before
        // sending frames, so nothing is left in `buffer`).
        beast::get_lowest_layer(stream).expires_never();
        co_await liveSession(std::move(stream), std::move(req), std::move(liveJob));
        co_return;
      }
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      co_await http::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
      if (ec || !req.keep_alive()) break;
    }
    error_code ec;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  }

  /// Answers a request; for an accepted GET /v1/jobs/{id}/live sets `liveJob` instead
  /// (the caller upgrades the connection).
  http::response<http::string_body> handle(const http::request<http::string_body>& req, std::string& liveJob) {
    int status = 200;
    json body;
    std::string text;  // a text/plain body instead of JSON (GET /metrics)
    try {
      body = route(req, status, text, liveJob);
    } catch (const std::exception& e) {
      status = 500;
      body = {{"error", e.what()}};
    }
    http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
    res.set(http::field::server, "weir-jobmanager");
    if (status == 401) res.set(http::field::www_authenticate, "Bearer");
    if (status == 200 && !text.empty()) {
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = std::move(text);
    } else {
      res.set(http::field::content_type, "application/json");
      res.body() = dumpJson(body) + "\n";  // what it quotes of a request need not be UTF-8
    }
    return res;
  }

  json route(const http::request<http::string_body>& req, int& status, std::string& text, std::string& liveJob) {
    if (!secret_.empty()) {
      const std::string auth(req[http::field::authorization]);
      const std::string want = "Bearer " + secret_;
      if (auth.size() != want.size() || CRYPTO_memcmp(auth.data(), want.data(), want.size()) != 0) {
        status = 401;
        return {{"error", "missing or wrong bearer token"}};
      }
    }
    std::string target(req.target());
    std::map<std::string, std::string> query;
    if (auto q = target.find('?'); q != std::string::npos) {
      std::string why;
      auto parsed = parseQuery(std::string_view(target).substr(q + 1), why);
      if (!parsed) {
        status = 400;
        return {{"error", why}};
      }
      query = std::move(*parsed);
      target.resize(q);
    }
    const auto method = req.method();
    if (target == "/v1/overview" && method == http::verb::get) {
      const auto [live, total, running] = clusterCounts();
      return {{"taskmanagers", live}, {"slots_total", total}, {"slots_available", freeSlots()}, {"jobs_running", running}};
    }
    if (target == "/v1/logs" && method == http::verb::get) {
      int n = 100;
      if (auto it = query.find("lines"); it != query.end()) {
        n = queryInt(it->second, 0, std::numeric_limits<int>::max()).value_or(-1);
        if (n < 0) {
          status = 400;
          return {{"error", "lines must be a whole number from 0 to " + std::to_string(kRecentLogLines)}};
        }
      }
      return {{"lines", recentLogLines(static_cast<std::size_t>(n))}};
    }
    if (target == "/metrics" && method == http::verb::get) {
      text = prometheus();
      return json::object();
    }
    if (target == "/v1/taskmanagers" && method == http::verb::get) {
      json a = json::array();
      for (const auto& n : tmOrder_) {
        const TmInfo& tm = tms_.at(n);
        json t{{"name", tm.name},
               {"state", tm.state},
               {"channels", tm.channels},
               {"attempts", tm.attempts},
               {"slots", tm.slots},
               {"slots_available", tm.state == "LOST" ? 0 : tm.slots - tm.slotsUsed},
               {"data_address", tm.dataHost + ":" + std::to_string(tm.dataPort)},
               {"registered_ms", tm.registeredMs},
               {"last_heartbeat_ago_ms",
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - tm.lastHeartbeat).count()}};
        if (!tm.lostReason.empty()) t["lost_reason"] = tm.lostReason;
        a.push_back(t);
      }
      return {{"taskmanagers", a}};
    }
    if (target == "/v1/jobs" && method == http::verb::get && query.count("name")) return runsJson(query.at("name"));
    if (target == "/v1/jobs" && method == http::verb::get) {
      json a = json::array();
      for (const auto& id : jobOrder_) a.push_back(jobJson(jobs_.at(id), false));
      return {{"jobs", a}};
    }
    if (target == "/v1/jobs" && method == http::verb::post) return submit(req.body(), query, status);
    const std::string prefix = "/v1/jobs/";
    if (target.rfind(prefix, 0) == 0) {
      // /v1/jobs/{id}[/{sub}]
      const std::string rest = target.substr(prefix.size());
      const auto slash = rest.find('/');
      const std::string id = rest.substr(0, slash);
      const std::string sub = slash == std::string::npos ? "" : rest.substr(slash + 1);
      auto it = jobs_.find(id);
      if (sub == "metrics/history" && method == http::verb::get) {
        if (it == jobs_.end() && !meta_.jobExists(id)) {
          status = 404;
          return {{"error", "no job " + id}};
        }
        const std::string node = query.count("node") ? query.at("node") : "";
        if (it != jobs_.end() && !node.empty() &&
            std::none_of(it->second.plan.nodes.begin(), it->second.plan.nodes.end(),
                         [&](const PlanNode& n) { return n.id == node; })) {
          status = 404;
          return {{"error", "job " + id + " has no node " + node}};
        }
        return historyJson(id, node);
      }
      if (sub == "checkpoints" && method == http::verb::get) {
        if (it == jobs_.end() && !meta_.jobExists(id)) {
          status = 404;
          return {{"error", "no job " + id}};
        }
        return checkpointsJson(id, it == jobs_.end() ? nullptr : &it->second);
      }
      if (sub == "exceptions" && method == http::verb::get) {
        // From the metadata: also the jobs of an earlier JobManager on this data dir.
        if (it == jobs_.end() && !meta_.jobExists(id)) {
          status = 404;
          return {{"error", "no job " + id}};
        }
        return exceptionsJson(id);
      }
      if (it == jobs_.end()) {
        status = 404;
        return {{"error", "no job " + id}};
      }
      JobInfo& job = it->second;
      if (sub == "metrics" && method == http::verb::get) return metricsJson(job);
      if (sub == "live" && method == http::verb::get) {
        if (!websocket::is_upgrade(req)) {
          status = 426;
          return {{"error", "GET /v1/jobs/{id}/live is a WebSocket: send Connection: Upgrade and Upgrade: websocket"}};
        }
        liveJob = id;
        return json::object();
      }
      if (sub.rfind("edges/", 0) == 0) {
        const auto [edge, what] = edgeRoute(sub);
        if ((what == "tap" && method == http::verb::post) || (what == "sample" && method == http::verb::get)) {
          if (edge < 0 || edge >= static_cast<int>(job.plan.edges.size())) {
            status = 404;
            return {{"error", "job " + id + " has no edge " + sub.substr(6, sub.find('/', 6) - 6) + " (it has " +
                                  std::to_string(job.plan.edges.size()) + ", numbered from 0 in file order)"}};
          }
          if (what == "tap") return tapRequest(job, edge, req.body(), status);
          return sampleJson(job, edge, query, status);
        }
      }
      if (sub.empty() && method == http::verb::get) return jobJson(job, true);
      if (sub == "cancel" && method == http::verb::post) {
        cancel(job);
        return jobJson(job, false);
      }
      if (sub == "savepoints" && method == http::verb::post) return triggerSavepoint(job, false, status);
      if (sub == "stop" && method == http::verb::post) {
        const json body = parseJsonBounded(req.body().empty() ? "{}" : req.body());
        if (!body.is_object() || !body.value("savepoint", true)) {
          status = 400;
          return {{"error", "POST /v1/jobs/{id}/stop takes {\"savepoint\": true}: it stops the job with a savepoint "
                            "(POST .../cancel stops it without one)"}};
        }
        return triggerSavepoint(job, true, status);
      }
    }
    status = 404;
    return {{"error", "no such endpoint: " + std::string(req.method_string()) + " " + target}};
  }

  Flags flags_;
  std::string secret_;
  Metadata meta_;
  asio::io_context io_;
  asio::signal_set signals_;
  tcp::acceptor rpc_, api_;
  std::shared_ptr<asio::ssl::context> rpcTls_, apiTls_;  // null without TLS
  bool stopping_ = false;
  int pendingHandshakes_ = 0, apiConnections_ = 0;  // against the caps of cluster/limits.h
  Clock::time_point lastCapLog_{};
  std::map<std::string, TmInfo> tms_;
  std::vector<std::string> tmOrder_;
  std::map<std::string, JobInfo> jobs_;
  std::vector<std::string> jobOrder_;
  std::map<std::string, std::vector<std::shared_ptr<LiveClient>>> live_;  // by job id
};

}  // namespace
}  // namespace weir::cluster

int main(int argc, char** argv) {
  using namespace weir::cluster;
  Flags f;
  DaemonArgs args(argc, argv, usageExit);
  while (args.next()) {
    const std::string& a = args.flag();
    if (a == "--bind") f.bind = args.value();
    else if (a == "--rpc-port") f.rpcPort = args.number(0, 65535);
    else if (a == "--api-port") f.apiPort = args.number(0, 65535);
    else if (a == "--data-dir") f.dataDir = args.value();
    else if (a == "--secret-file") f.secretFile = args.value();
    else if (a == "--heartbeat-timeout-ms") f.heartbeatTimeoutMs = args.number(100, 3600000);
    else if (a == "--metric-history-interval-ms") f.metricHistoryIntervalMs = args.number(100, 86400000);
    else if (a == "--tap-idle-timeout-ms") f.tapIdleMs = args.number(100, 86400000);
    else if (a == "--on-insufficient-slots") {
      const std::string v = args.value();
      if (v != "wait" && v != "refuse") usageExit(args.where() + " is wait or refuse");
      f.refuseWithoutSlots = v == "refuse";
    } else if (a == "--ports-file") f.portsFile = args.value();
    else if (takeTlsFlag(args, f.tls)) continue;
    else if (a == "--help" || a == "-h") usageExit("");
    else usageExit("unknown option " + args.where());
  }
  try {
    const std::string secret = clusterSecret(f.secretFile);
    if (secret.empty() && !isLoopback(f.bind)) {
      logLine("error", "jobmanager", "binding a non-loopback address needs a cluster secret (--secret-file or WEIR_SECRET)",
              {{"bind", f.bind}});
      return 2;
    }
    if (const std::string why = weir::net::checkTlsFiles(f.tls); !why.empty()) {
      logLine("error", "jobmanager", "TLS: " + why);
      return 2;
    }
    JobManager jm(f, secret);
    return jm.run();
  } catch (const std::exception& e) {
    logLine("error", "jobmanager", e.what());
    return 1;
  }
}

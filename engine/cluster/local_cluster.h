#pragma once
// A cluster of real processes on this machine: one weir-jobmanager and N weir-taskmanager
// started as child processes, on free loopback ports, with their logs in files. Used by
// `weir cluster start/stop`, `weir run` and the workbench's Run button (one launcher for
// all three). POSIX only (fork/exec); no Asio, no Qt.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/types.h>

namespace weir::cluster {

struct LocalClusterOptions {
  int taskManagers = 2;
  int slotsPerTaskManager = 2;
  std::filesystem::path dataDir;          // JobManager's metadata, logs/, the ports file
  std::filesystem::path binDir;           // weir-jobmanager's folder; empty: this program's
  int apiPort = 0;                        // 0: a free port
  int rpcPort = 0;
  int heartbeatTimeoutMs = 0;             // 0: the JobManager's default
  std::string secretFile;                 // given to every daemon when not empty
  /// The address TaskManager i binds (and announces to its peers): taskManagerHosts[i %
  /// size], e.g. {"127.0.0.2", "127.0.0.3"} to give each its own loopback host; empty:
  /// 127.0.0.1. The JobManager stays on 127.0.0.1.
  std::vector<std::string> taskManagerHosts;
  /// TLS for every connection (--tls-cert/--tls-key/--tls-ca of both daemons; docs/
  /// operations.md): all three or none. The API URL is then https://.
  std::string tlsCert, tlsKey, tlsCa;
  /// The children get SIGTERM when the thread that started them ends (Linux
  /// PR_SET_PDEATHSIG), so a crashed workbench leaves no process behind. Off for `weir
  /// cluster start`, whose cluster outlives the command.
  bool dieWithParent = true;
  /// The TaskManagers' stdout (the records of sink.stdout) goes to this program's stdout;
  /// otherwise to their log files with their stderr.
  bool forwardStdout = false;
  /// A new session for the children (setsid): a Ctrl-C in the terminal does not reach them.
  bool newSession = true;
};

struct ClusterProcess {
  std::string role;  // "jobmanager" or "taskmanager"
  std::string name;  // "jobmanager", "taskmanager-1", ...
  pid_t pid = 0;
  std::filesystem::path log;
};

class LocalCluster {
 public:
  /// Starts the JobManager, waits for its ports, starts the TaskManagers and waits until
  /// all of them registered. Throws std::runtime_error naming the process that failed and
  /// the end of its log; whatever was started is stopped first.
  static LocalCluster start(const LocalClusterOptions& options,
                            std::chrono::milliseconds timeout = std::chrono::seconds(20));

  /// A cluster described by toJson() (the state file of `weir cluster start`): not owned,
  /// never stopped by the destructor.
  static LocalCluster fromJson(const nlohmann::json& j);
  nlohmann::json toJson() const;

  LocalCluster(LocalCluster&& o) noexcept;
  LocalCluster& operator=(LocalCluster&& o) noexcept;
  LocalCluster(const LocalCluster&) = delete;
  ~LocalCluster();  // stops an owned cluster

  /// "http://127.0.0.1:PORT" (https with TLS), the JobManager's API.
  const std::string& url() const { return url_; }
  int rpcPort() const { return rpcPort_; }
  const std::vector<ClusterProcess>& processes() const { return processes_; }
  const std::filesystem::path& dataDir() const { return dataDir_; }
  /// The CA of a TLS cluster (clients check the API's certificate against it), or empty.
  const std::filesystem::path& tlsCa() const { return tlsCa_; }

  /// Number of processes still alive.
  int alive() const;
  /// SIGTERM to the TaskManagers, then the JobManager; waits up to `grace` for each group
  /// and SIGKILLs what is left. Returns true when every process ended by itself.
  bool stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  /// Leaves the processes running when this object goes away.
  void detach() { owned_ = false; }

 private:
  LocalCluster() = default;
  std::string url_;
  int rpcPort_ = 0;
  std::filesystem::path dataDir_;
  std::filesystem::path tlsCa_;
  std::vector<ClusterProcess> processes_;
  bool owned_ = true;
};

/// The folder of the running program (/proc/self/exe), where the daemons are built next to it.
std::filesystem::path programDir();

/// The last `lines` lines of a log file (for error messages).
std::string logTail(const std::filesystem::path& file, int lines = 8);

}  // namespace weir::cluster

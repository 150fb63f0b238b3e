#pragma once
// The JobManager's metadata in SQLite (DIR/metadata.sqlite, WAL mode): submitted job
// versions (the job file), runs with their status transitions and times, TaskManagers
// seen, exceptions. Schema version kSchemaVersion (table schema_version); migrations
// apply in order when a newer JobManager opens an older file. docs/operations.md lists
// the tables.
//
// Threading: the methods are called from one thread at a time (the JobManager's io thread),
// and never wait for a write: each write method queues its statements, and a writer
// thread of its own commits them in order, one transaction per call, on its own
// connection. A database locked by another process (SQLITE_BUSY) makes the writer wait
// and retry (2 s busy timeout per try, then 50 ms doubling to 1 s between tries, logged
// once per 10 s) without dropping the write, while the io thread serves the API and the
// TaskManagers. Reads run on the caller's connection (WAL: a reader is not blocked by a
// writer) after waiting at most 1 s for the writes queued before them, so an answer shows
// what the JobManager did unless the database is locked. Other write errors are logged
// and never stop the JobManager: the metadata records what happened, it does not decide it.
// The destructor commits what is queued, waiting at most 10 s for a locked database.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace weir::cluster {

/// One exception of a job: the root cause (the first, which failed the job) or a later
/// failure seen while the job was stopping.
struct ExceptionRecord {
  std::int64_t atMs = 0;  // wall clock, ms since the epoch
  std::string message;
  std::string node;          // the failing operator; "" when not a subtask's failure
  int subtask = -1;          // its subtask index; -1 when not a subtask's failure
  std::string taskmanager;   // the TaskManager it happened on (or that was lost); "" if none
  bool rootCause = false;    // the first exception of its attempt: what failed that attempt
  int attempt = 1;           // the job's attempt it belongs to
};

/// A restart of a job: the attempt it started, when it was decided, the failure that
/// caused it and the delay before the new attempt was deployed.
struct RestartRecord {
  int attempt = 0;
  std::int64_t atMs = 0;
  std::string cause;
  std::int64_t delayMs = 0;
};

/// One downsampled sample of one node of a running job (the metric history).
struct HistoryRow {
  std::string node;
  std::int64_t atMs = 0;  // wall clock, ms since the epoch
  std::int64_t recordsIn = 0, recordsOut = 0;
  double recordsInPerS = 0, recordsOutPerS = 0;
  double busyMsPerSMax = 0, backpressuredMsPerSMax = 0;  // the most of any subtask of the node
  std::optional<std::int64_t> watermark;                 // the lowest of its subtasks; none before the first
};

/// A run of a job, as GET /v1/jobs?name= lists them.
struct RunRecord {
  std::string id, name, status;
  std::int64_t submittedMs = 0;
  std::optional<std::int64_t> startedMs, endedMs;
};

/// One checkpoint or savepoint as the database keeps it (GET /v1/jobs/{id}/checkpoints).
struct CheckpointRow {
  std::int64_t id = 0;
  int attempt = 0;
  std::string kind = "checkpoint";
  std::string status;  // IN_PROGRESS, COMPLETED, FAILED
  std::int64_t triggeredMs = 0, endedMs = 0;  // endedMs 0: not ended
  std::int64_t bytes = 0;
  int acknowledged = 0, total = 0;
  std::int64_t maxSyncMs = 0, maxAsyncMs = 0, maxAlignmentMs = 0;
  std::string failure, path;
  struct Subtask {
    std::string vertex;
    int subtask = 0;
    std::int64_t bytes = 0, syncMs = 0, asyncMs = 0, alignmentMs = 0;
    bool finished = false;
  };
  std::vector<Subtask> subtasks;
};

/// A run that was not over when its JobManager stopped (a JobManager starting over the data
/// dir resumes it from its latest checkpoint, or settles it).
struct OpenRun {
  std::string id, name, baseDir;
  std::int64_t submittedMs = 0;
  std::string jobFile;
  int lastAttempt = 1;
};

class Metadata {
 public:
  /// Opens or creates the database; throws std::runtime_error when it cannot.
  explicit Metadata(const std::filesystem::path& file);
  ~Metadata();
  Metadata(const Metadata&) = delete;
  Metadata& operator=(const Metadata&) = delete;

  void jobSubmitted(const std::string& jobId, const std::string& name, const std::string& jobFile,
                    const std::string& baseDir);
  void runStatus(const std::string& jobId, const std::string& status);
  /// Records an exception of the job's run (e.rootCause says whether it is the first).
  void exception(const std::string& jobId, const ExceptionRecord& e);
  /// Records that the job restarts as attempt `attempt` after `delayMs` because of `cause`.
  void restart(const std::string& jobId, int attempt, std::int64_t atMs, const std::string& cause,
               std::int64_t delayMs);
  /// The job's restarts, by attempt.
  std::vector<RestartRecord> restarts(const std::string& jobId);
  /// Ends every run still open in the database (FAILED, with `reason` as its attempt's
  /// root cause): a JobManager starting over a data dir whose previous JobManager died
  /// or stopped with jobs running. Returns how many it settled.
  int settleRuns(const std::string& reason);
  /// Ends one run as settleRuns does.
  void settleRun(const std::string& jobId, const std::string& reason);
  /// Runs still open (not FINISHED, FAILED or CANCELED), oldest first, with their job file.
  std::vector<OpenRun> openRuns();
  /// The newest attempt the database knows of for the job (1 when none is recorded).
  int lastAttempt(const std::string& jobId);
  /// Records a checkpoint or savepoint (again, as it moves on: the row is replaced).
  void checkpoint(const std::string& jobId, const CheckpointRow& row);
  /// The same, waiting at most `bound` for the write: "" once it is committed, else why
  /// not (the database refused it or is locked). A checkpoint is complete only once this
  /// says so (docs/fault-tolerance.md).
  std::string checkpointRecorded(const std::string& jobId, const CheckpointRow& row, std::chrono::milliseconds bound);
  /// The job's newest `limit` checkpoints, oldest first, with their subtasks.
  std::vector<CheckpointRow> checkpoints(const std::string& jobId, std::size_t limit = 100);
  /// Records that attempt `attempt` restored from checkpoint `checkpointId` at `path`.
  void restored(const std::string& jobId, int attempt, std::int64_t checkpointId, const std::string& path,
                std::int64_t atMs);
  /// The job's exceptions: root causes first (the newest attempt's first), then the others
  /// in the order they happened.
  std::vector<ExceptionRecord> exceptions(const std::string& jobId);
  /// Appends samples of the job's metric history (one transaction).
  void metricHistory(const std::string& jobId, const std::vector<HistoryRow>& rows);
  /// The job's samples in time order, of one node or ("") of all.
  std::vector<HistoryRow> metricHistory(const std::string& jobId, const std::string& node);
  /// Every job submitted with this name, newest first.
  std::vector<RunRecord> runsByName(const std::string& name);
  /// Whether a job with this id was ever submitted (also in an earlier JobManager's life).
  bool jobExists(const std::string& jobId);
  void taskManagerSeen(const std::string& name, int slots, const std::string& dataAddress);
  void taskManagerLost(const std::string& name, const std::string& reason);
  int schemaVersion() const;

 private:
  using Args = std::initializer_list<std::optional<std::string>>;  // nullopt binds NULL
  struct Statement {
    const char* sql;
    std::vector<std::optional<std::string>> args;
  };
  using Write = std::vector<Statement>;  // committed in one transaction
  /// Queues a write for the writer thread.
  void enqueue(Write w);
  /// Queues a write and waits at most `bound` for it: "" when committed, else why not.
  std::string writeAndWait(Write w, std::chrono::milliseconds bound);
  Write checkpointWrite(const std::string& jobId, const CheckpointRow& row);
  void writerLoop();
  /// Runs `w` in one transaction on the writer's connection: SQLITE_OK, or the error code
  /// (`why` says what) after rolling back.
  int commit(const Write& w, std::string& why);
  /// Waits at most `bound` until the writes queued so far are done (before a read).
  void awaitWrites(std::chrono::milliseconds bound);
  void exec(const char* sql);
  void run(const char* sql, Args args);
  /// Runs a query, calling `row` for each result row; false (logged) on error.
  template <typename F>
  bool query(const char* sql, Args args, F&& row);
  sqlite3_stmt* prepare(const char* sql, Args args);
  sqlite3* db_ = nullptr;   // the caller's connection: migrations and reads
  sqlite3* wdb_ = nullptr;  // the writer thread's connection
  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::deque<Write> queue_;  // the front stays until it is committed
  std::uint64_t queued_ = 0, finished_ = 0;
  std::set<std::uint64_t> failedWrites_;  // sequence numbers of recent writes that failed
  bool stop_ = false;
  std::thread writer_;
};

}  // namespace weir::cluster

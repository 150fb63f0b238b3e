#include "cluster/metadata.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "cluster/control.h"

namespace weir::cluster {
namespace {

constexpr int kSchemaVersion = 5;

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Migration i brings the schema from version i to i+1.
const char* const kMigrations[] = {
    R"(CREATE TABLE jobs (id TEXT PRIMARY KEY, name TEXT NOT NULL, submitted_ms INTEGER NOT NULL,
                          base_dir TEXT NOT NULL);
       CREATE TABLE job_versions (job_id TEXT NOT NULL REFERENCES jobs(id), version INTEGER NOT NULL,
                                  job_file TEXT NOT NULL, created_ms INTEGER NOT NULL,
                                  PRIMARY KEY (job_id, version));
       CREATE TABLE runs (job_id TEXT NOT NULL REFERENCES jobs(id), run INTEGER NOT NULL, status TEXT NOT NULL,
                          started_ms INTEGER, ended_ms INTEGER, PRIMARY KEY (job_id, run));
       CREATE TABLE run_transitions (job_id TEXT NOT NULL, run INTEGER NOT NULL, status TEXT NOT NULL,
                                     at_ms INTEGER NOT NULL);
       CREATE TABLE taskmanagers (name TEXT PRIMARY KEY, slots INTEGER NOT NULL, data_address TEXT NOT NULL,
                                  first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
                                  lost_ms INTEGER, lost_reason TEXT);
       CREATE TABLE exceptions (job_id TEXT NOT NULL, run INTEGER NOT NULL, at_ms INTEGER NOT NULL,
                                message TEXT NOT NULL);)",
    // 2: where an exception happened, and which one failed the job (every exception
    // recorded by version 1 was its job's only one, so its root cause).
    R"(ALTER TABLE exceptions ADD COLUMN node TEXT;
       ALTER TABLE exceptions ADD COLUMN subtask INTEGER;
       ALTER TABLE exceptions ADD COLUMN taskmanager TEXT;
       ALTER TABLE exceptions ADD COLUMN root_cause INTEGER NOT NULL DEFAULT 1;)",
    // 3: the downsampled metric history, one row per node every --metric-history-interval-ms,
    // and an index for listing the runs of a job name.
    R"(CREATE TABLE metric_history (job_id TEXT NOT NULL, run INTEGER NOT NULL, node TEXT NOT NULL,
                                    at_ms INTEGER NOT NULL, records_in INTEGER NOT NULL,
                                    records_out INTEGER NOT NULL, records_in_per_s REAL NOT NULL,
                                    records_out_per_s REAL NOT NULL, busy_ms_per_s_max REAL NOT NULL,
                                    backpressured_ms_per_s_max REAL NOT NULL, watermark INTEGER);
       CREATE INDEX metric_history_by_job ON metric_history (job_id, node, at_ms);
       CREATE INDEX jobs_by_name ON jobs (name, submitted_ms);)",
    // 4: restarts (one row per attempt after the first, with the failure that caused it);
    // exceptions.run holds the attempt the exception belongs to (version 3 knew only 1).
    R"(CREATE TABLE restarts (job_id TEXT NOT NULL, attempt INTEGER NOT NULL, at_ms INTEGER NOT NULL,
                             cause TEXT NOT NULL, delay_ms INTEGER NOT NULL);
       CREATE INDEX restarts_by_job ON restarts (job_id, attempt);)",
    // 5: checkpoints and savepoints (one row each, per subtask details beside), and the
    // checkpoint each attempt restored from.
    R"(CREATE TABLE checkpoints (job_id TEXT NOT NULL, id INTEGER NOT NULL, attempt INTEGER NOT NULL,
                                 kind TEXT NOT NULL, status TEXT NOT NULL, triggered_ms INTEGER NOT NULL,
                                 ended_ms INTEGER, bytes INTEGER NOT NULL, acknowledged INTEGER NOT NULL,
                                 total INTEGER NOT NULL, max_sync_ms INTEGER NOT NULL,
                                 max_async_ms INTEGER NOT NULL, max_alignment_ms INTEGER NOT NULL,
                                 failure TEXT, path TEXT NOT NULL, PRIMARY KEY (job_id, id));
       CREATE TABLE checkpoint_subtasks (job_id TEXT NOT NULL, id INTEGER NOT NULL, vertex TEXT NOT NULL,
                                         subtask INTEGER NOT NULL, bytes INTEGER NOT NULL,
                                         sync_ms INTEGER NOT NULL, async_ms INTEGER NOT NULL,
                                         alignment_ms INTEGER NOT NULL, finished INTEGER NOT NULL);
       CREATE INDEX checkpoint_subtasks_by_id ON checkpoint_subtasks (job_id, id);
       CREATE TABLE restores (job_id TEXT NOT NULL, attempt INTEGER NOT NULL, checkpoint_id INTEGER NOT NULL,
                              path TEXT NOT NULL, at_ms INTEGER NOT NULL);)",
};

static_assert(sizeof kMigrations / sizeof kMigrations[0] == kSchemaVersion);

}  // namespace

Metadata::Metadata(const std::filesystem::path& file) {
  std::filesystem::create_directories(file.parent_path());
  if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open " + file.string() + ": " + why);
  }
  sqlite3_busy_timeout(db_, 1000);
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");
  exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  int v = schemaVersion();
  if (v > kSchemaVersion)
    throw std::runtime_error(file.string() + " has schema version " + std::to_string(v) +
                             ", newer than this JobManager's " + std::to_string(kSchemaVersion));
  for (; v < kSchemaVersion; ++v) {
    exec("BEGIN");
    exec(kMigrations[v]);
    exec("DELETE FROM schema_version");
    run("INSERT INTO schema_version (version) VALUES (?)", {std::to_string(v + 1)});
    exec("COMMIT");
  }
  if (sqlite3_open(file.c_str(), &wdb_) != SQLITE_OK) {
    std::string why = wdb_ ? sqlite3_errmsg(wdb_) : "out of memory";
    sqlite3_close(wdb_);
    sqlite3_close(db_);
    throw std::runtime_error("cannot open " + file.string() + ": " + why);
  }
  sqlite3_busy_timeout(wdb_, 2000);
  sqlite3_exec(wdb_, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr);
  writer_ = std::thread([this] { writerLoop(); });
}

Metadata::~Metadata() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  writer_.join();
  sqlite3_close(wdb_);
  sqlite3_close(db_);
}

void Metadata::enqueue(Write w) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(w));
    ++queued_;
  }
  wake_.notify_one();
}

int Metadata::commit(const Write& w, std::string& why) {
  auto fail = [&](int rc) {
    why = sqlite3_errmsg(wdb_);
    sqlite3_exec(wdb_, "ROLLBACK", nullptr, nullptr, nullptr);
    return rc;
  };
  if (int rc = sqlite3_exec(wdb_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr); rc != SQLITE_OK) return fail(rc);
  for (const Statement& st : w) {
    sqlite3_stmt* stmt = nullptr;
    if (int rc = sqlite3_prepare_v2(wdb_, st.sql, -1, &stmt, nullptr); rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return fail(rc);
    }
    int i = 1;
    for (const auto& a : st.args) {
      if (a) sqlite3_bind_text(stmt, i, a->c_str(), static_cast<int>(a->size()), SQLITE_TRANSIENT);
      else sqlite3_bind_null(stmt, i);
      ++i;
    }
    const int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return fail(rc);
  }
  if (int rc = sqlite3_exec(wdb_, "COMMIT", nullptr, nullptr, nullptr); rc != SQLITE_OK) return fail(rc);
  return SQLITE_OK;
}

void Metadata::writerLoop() {
  using Clock = std::chrono::steady_clock;
  Clock::time_point lastLog{}, stopDeadline = Clock::time_point::max();
  for (;;) {
    Write w;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      w = queue_.front();
    }
    bool failed = false;
    for (int attempt = 0;; ++attempt) {
      std::string why;
      const int rc = commit(w, why);
      if (rc == SQLITE_OK) break;
      const int primary = rc & 0xff;
      if (primary != SQLITE_BUSY && primary != SQLITE_LOCKED) {
        logLine("error", "metadata", "write failed: " + why);  // retrying would fail alike
        failed = true;
        break;
      }
      const auto now = Clock::now();
      {
        std::lock_guard lock(mu_);
        if (stop_ && stopDeadline == Clock::time_point::max()) stopDeadline = now + std::chrono::seconds(10);
        if (now >= stopDeadline) {
          logLine("error", "metadata", "database still locked at shutdown: " + std::to_string(queue_.size()) +
                                           " writes not recorded");
          return;
        }
      }
      if (now - lastLog >= std::chrono::seconds(10)) {
        lastLog = now;
        std::size_t waiting;
        {
          std::lock_guard lock(mu_);
          waiting = queue_.size();
        }
        logLine("warn", "metadata", "database locked (" + why + "); retrying, " + std::to_string(waiting) +
                                        " writes waiting");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 50 << std::min(attempt, 5))));
    }
    {
      std::lock_guard lock(mu_);
      queue_.pop_front();
      ++finished_;
      if (failed) failedWrites_.insert(finished_);
      while (failedWrites_.size() > 64) failedWrites_.erase(failedWrites_.begin());
    }
    done_.notify_all();
  }
}

std::string Metadata::writeAndWait(Write w, std::chrono::milliseconds bound) {
  std::uint64_t seq;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(w));
    seq = ++queued_;
  }
  wake_.notify_one();
  std::unique_lock lock(mu_);
  if (!done_.wait_for(lock, bound, [&] { return finished_ >= seq; }))
    return "the metadata database did not record it within " + std::to_string(bound.count()) + " ms (locked?)";
  if (failedWrites_.count(seq)) return "the metadata database refused to record it";
  return "";
}

void Metadata::awaitWrites(std::chrono::milliseconds bound) {
  std::unique_lock lock(mu_);
  const std::uint64_t target = queued_;
  done_.wait_for(lock, bound, [&] { return finished_ >= target; });
}

int Metadata::schemaVersion() const {
  sqlite3_stmt* st = nullptr;
  int v = 0;
  if (sqlite3_prepare_v2(db_, "SELECT version FROM schema_version", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return v;
}

void Metadata::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error("metadata: " + why);
  }
}

sqlite3_stmt* Metadata::prepare(const char* sql, Args args) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
    logLine("error", "metadata", sqlite3_errmsg(db_));
    sqlite3_finalize(st);
    return nullptr;
  }
  int i = 1;
  for (const auto& a : args) {
    if (a) sqlite3_bind_text(st, i, a->c_str(), static_cast<int>(a->size()), SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
    ++i;
  }
  return st;
}

void Metadata::run(const char* sql, Args args) {
  sqlite3_stmt* st = prepare(sql, args);
  if (!st) return;
  if (sqlite3_step(st) != SQLITE_DONE) logLine("error", "metadata", sqlite3_errmsg(db_));
  sqlite3_finalize(st);
}

template <typename F>
bool Metadata::query(const char* sql, Args args, F&& row) {
  sqlite3_stmt* st = prepare(sql, args);
  if (!st) return false;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) row(st);
  const bool ok = rc == SQLITE_DONE;
  if (!ok) logLine("error", "metadata", sqlite3_errmsg(db_));
  sqlite3_finalize(st);
  return ok;
}

namespace {
std::string columnText(sqlite3_stmt* st, int i) {
  const auto* t = sqlite3_column_text(st, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}
}  // namespace

void Metadata::jobSubmitted(const std::string& jobId, const std::string& name, const std::string& jobFile,
                            const std::string& baseDir) {
  const std::string now = std::to_string(nowMs());
  enqueue({{"INSERT INTO jobs (id, name, submitted_ms, base_dir) VALUES (?, ?, ?, ?)", {jobId, name, now, baseDir}},
           {"INSERT INTO job_versions (job_id, version, job_file, created_ms) VALUES (?, 1, ?, ?)", {jobId, jobFile, now}},
           {"INSERT INTO runs (job_id, run, status) VALUES (?, 1, 'CREATED')", {jobId}},
           {"INSERT INTO run_transitions (job_id, run, status, at_ms) VALUES (?, 1, 'CREATED', ?)", {jobId, now}}});
}

void Metadata::runStatus(const std::string& jobId, const std::string& status) {
  const std::string now = std::to_string(nowMs());
  Write w{{"INSERT INTO run_transitions (job_id, run, status, at_ms) VALUES (?, 1, ?, ?)", {jobId, status, now}}};
  if (status == "RUNNING")
    w.push_back({"UPDATE runs SET status = ?, started_ms = ? WHERE job_id = ? AND run = 1", {status, now, jobId}});
  else if (status == "FINISHED" || status == "FAILED" || status == "CANCELED")
    w.push_back({"UPDATE runs SET status = ?, ended_ms = ? WHERE job_id = ? AND run = 1", {status, now, jobId}});
  else
    w.push_back({"UPDATE runs SET status = ? WHERE job_id = ? AND run = 1", {status, jobId}});
  enqueue(std::move(w));
}

void Metadata::exception(const std::string& jobId, const ExceptionRecord& e) {
  auto orNull = [](const std::string& s) { return s.empty() ? std::nullopt : std::optional<std::string>(s); };
  enqueue({{"INSERT INTO exceptions (job_id, run, at_ms, message, node, subtask, taskmanager, root_cause) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            {jobId, std::to_string(e.attempt), std::to_string(e.atMs ? e.atMs : nowMs()), e.message, orNull(e.node),
             e.subtask >= 0 ? std::optional<std::string>(std::to_string(e.subtask)) : std::nullopt,
             orNull(e.taskmanager), e.rootCause ? "1" : "0"}}});
}

std::vector<ExceptionRecord> Metadata::exceptions(const std::string& jobId) {
  awaitWrites(std::chrono::seconds(1));
  std::vector<ExceptionRecord> out;
  query("SELECT at_ms, message, node, subtask, taskmanager, root_cause, run FROM exceptions WHERE job_id = ? "
        "ORDER BY root_cause DESC, run DESC, rowid",
        {jobId}, [&](sqlite3_stmt* st) {
          ExceptionRecord e;
          e.atMs = sqlite3_column_int64(st, 0);
          e.message = columnText(st, 1);
          e.node = columnText(st, 2);
          e.subtask = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 3);
          e.taskmanager = columnText(st, 4);
          e.rootCause = sqlite3_column_int(st, 5) != 0;
          e.attempt = sqlite3_column_int(st, 6);
          out.push_back(std::move(e));
        });
  return out;
}

namespace {
std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::optional<std::int64_t> optionalInt(sqlite3_stmt* st, int i) {
  if (sqlite3_column_type(st, i) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(st, i);
}
}  // namespace

void Metadata::metricHistory(const std::string& jobId, const std::vector<HistoryRow>& rows) {
  if (rows.empty()) return;
  Write w;
  for (const auto& r : rows)
    w.push_back({"INSERT INTO metric_history (job_id, run, node, at_ms, records_in, records_out, records_in_per_s, "
                 "records_out_per_s, busy_ms_per_s_max, backpressured_ms_per_s_max, watermark) "
                 "VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 {jobId, r.node, std::to_string(r.atMs), std::to_string(r.recordsIn), std::to_string(r.recordsOut),
                  number(r.recordsInPerS), number(r.recordsOutPerS), number(r.busyMsPerSMax),
                  number(r.backpressuredMsPerSMax),
                  r.watermark ? std::optional<std::string>(std::to_string(*r.watermark)) : std::nullopt}});
  enqueue(std::move(w));
}

std::vector<HistoryRow> Metadata::metricHistory(const std::string& jobId, const std::string& node) {
  awaitWrites(std::chrono::seconds(1));
  std::vector<HistoryRow> out;
  query("SELECT node, at_ms, records_in, records_out, records_in_per_s, records_out_per_s, busy_ms_per_s_max, "
        "backpressured_ms_per_s_max, watermark FROM metric_history WHERE job_id = ? AND (? = '' OR node = ?) "
        "ORDER BY at_ms, rowid",
        {jobId, node, node}, [&](sqlite3_stmt* st) {
          HistoryRow r;
          r.node = columnText(st, 0);
          r.atMs = sqlite3_column_int64(st, 1);
          r.recordsIn = sqlite3_column_int64(st, 2);
          r.recordsOut = sqlite3_column_int64(st, 3);
          r.recordsInPerS = sqlite3_column_double(st, 4);
          r.recordsOutPerS = sqlite3_column_double(st, 5);
          r.busyMsPerSMax = sqlite3_column_double(st, 6);
          r.backpressuredMsPerSMax = sqlite3_column_double(st, 7);
          r.watermark = optionalInt(st, 8);
          out.push_back(std::move(r));
        });
  return out;
}

std::vector<RunRecord> Metadata::runsByName(const std::string& name) {
  awaitWrites(std::chrono::seconds(1));
  std::vector<RunRecord> out;
  query("SELECT j.id, j.name, r.status, j.submitted_ms, r.started_ms, r.ended_ms FROM jobs j "
        "JOIN runs r ON r.job_id = j.id WHERE j.name = ? ORDER BY j.submitted_ms DESC, j.rowid DESC, r.run DESC",
        {name}, [&](sqlite3_stmt* st) {
          RunRecord r;
          r.id = columnText(st, 0);
          r.name = columnText(st, 1);
          r.status = columnText(st, 2);
          r.submittedMs = sqlite3_column_int64(st, 3);
          r.startedMs = optionalInt(st, 4);
          r.endedMs = optionalInt(st, 5);
          out.push_back(std::move(r));
        });
  return out;
}

void Metadata::restart(const std::string& jobId, int attempt, std::int64_t atMs, const std::string& cause,
                       std::int64_t delayMs) {
  enqueue({{"INSERT INTO restarts (job_id, attempt, at_ms, cause, delay_ms) VALUES (?, ?, ?, ?, ?)",
            {jobId, std::to_string(attempt), std::to_string(atMs), cause, std::to_string(delayMs)}}});
}

std::vector<RestartRecord> Metadata::restarts(const std::string& jobId) {
  awaitWrites(std::chrono::seconds(1));
  std::vector<RestartRecord> out;
  query("SELECT attempt, at_ms, cause, delay_ms FROM restarts WHERE job_id = ? ORDER BY attempt", {jobId},
        [&](sqlite3_stmt* st) {
          out.push_back({sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1), columnText(st, 2),
                         sqlite3_column_int64(st, 3)});
        });
  return out;
}

Metadata::Write Metadata::checkpointWrite(const std::string& jobId, const CheckpointRow& r) {
  auto opt = [](std::int64_t v) -> std::optional<std::string> {
    if (v == 0) return std::nullopt;
    return std::to_string(v);
  };
  Write w;
  w.push_back({"INSERT OR REPLACE INTO checkpoints (job_id, id, attempt, kind, status, triggered_ms, ended_ms, bytes, "
               "acknowledged, total, max_sync_ms, max_async_ms, max_alignment_ms, failure, path) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               {jobId, std::to_string(r.id), std::to_string(r.attempt), r.kind, r.status, std::to_string(r.triggeredMs),
                opt(r.endedMs), std::to_string(r.bytes), std::to_string(r.acknowledged), std::to_string(r.total),
                std::to_string(r.maxSyncMs), std::to_string(r.maxAsyncMs), std::to_string(r.maxAlignmentMs),
                r.failure.empty() ? std::nullopt : std::optional<std::string>(r.failure), r.path}});
  w.push_back({"DELETE FROM checkpoint_subtasks WHERE job_id = ? AND id = ?", {jobId, std::to_string(r.id)}});
  for (const auto& sub : r.subtasks)
    w.push_back({"INSERT INTO checkpoint_subtasks (job_id, id, vertex, subtask, bytes, sync_ms, async_ms, alignment_ms, "
                 "finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 {jobId, std::to_string(r.id), sub.vertex, std::to_string(sub.subtask), std::to_string(sub.bytes),
                  std::to_string(sub.syncMs), std::to_string(sub.asyncMs), std::to_string(sub.alignmentMs),
                  std::string(sub.finished ? "1" : "0")}});
  return w;
}

void Metadata::checkpoint(const std::string& jobId, const CheckpointRow& r) { enqueue(checkpointWrite(jobId, r)); }

std::string Metadata::checkpointRecorded(const std::string& jobId, const CheckpointRow& r,
                                         std::chrono::milliseconds bound) {
  return writeAndWait(checkpointWrite(jobId, r), bound);
}

std::vector<CheckpointRow> Metadata::checkpoints(const std::string& jobId, std::size_t limit) {
  awaitWrites(std::chrono::seconds(1));
  std::vector<CheckpointRow> out;
  query("SELECT id, attempt, kind, status, triggered_ms, COALESCE(ended_ms, 0), bytes, acknowledged, total, "
        "max_sync_ms, max_async_ms, max_alignment_ms, COALESCE(failure, ''), path FROM checkpoints "
        "WHERE job_id = ? ORDER BY id DESC LIMIT ?",
        {jobId, std::to_string(limit)}, [&](sqlite3_stmt* st) {
          CheckpointRow r;
          r.id = sqlite3_column_int64(st, 0);
          r.attempt = sqlite3_column_int(st, 1);
          r.kind = columnText(st, 2);
          r.status = columnText(st, 3);
          r.triggeredMs = sqlite3_column_int64(st, 4);
          r.endedMs = sqlite3_column_int64(st, 5);
          r.bytes = sqlite3_column_int64(st, 6);
          r.acknowledged = sqlite3_column_int(st, 7);
          r.total = sqlite3_column_int(st, 8);
          r.maxSyncMs = sqlite3_column_int64(st, 9);
          r.maxAsyncMs = sqlite3_column_int64(st, 10);
          r.maxAlignmentMs = sqlite3_column_int64(st, 11);
          r.failure = columnText(st, 12);
          r.path = columnText(st, 13);
          out.push_back(std::move(r));
        });
  for (auto& r : out)
    query("SELECT vertex, subtask, bytes, sync_ms, async_ms, alignment_ms, finished FROM checkpoint_subtasks "
          "WHERE job_id = ? AND id = ? ORDER BY vertex, subtask",
          {jobId, std::to_string(r.id)}, [&](sqlite3_stmt* st) {
            r.subtasks.push_back({columnText(st, 0), sqlite3_column_int(st, 1), sqlite3_column_int64(st, 2),
                                  sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
                                  sqlite3_column_int(st, 6) != 0});
          });
  std::reverse(out.begin(), out.end());
  return out;
}

void Metadata::restored(const std::string& jobId, int attempt, std::int64_t checkpointId, const std::string& path,
                        std::int64_t atMs) {
  enqueue({{"INSERT INTO restores (job_id, attempt, checkpoint_id, path, at_ms) VALUES (?, ?, ?, ?, ?)",
            {jobId, std::to_string(attempt), std::to_string(checkpointId), path, std::to_string(atMs)}}});
}

std::vector<OpenRun> Metadata::openRuns() {
  awaitWrites(std::chrono::seconds(10));
  std::vector<OpenRun> out;
  query("SELECT r.job_id, j.name, j.base_dir, j.submitted_ms, "
        "(SELECT job_file FROM job_versions v WHERE v.job_id = r.job_id ORDER BY version DESC LIMIT 1) "
        "FROM runs r JOIN jobs j ON j.id = r.job_id WHERE r.status NOT IN ('FINISHED', 'FAILED', 'CANCELED') "
        "ORDER BY j.submitted_ms",
        {}, [&](sqlite3_stmt* st) {
          out.push_back({columnText(st, 0), columnText(st, 1), columnText(st, 2), sqlite3_column_int64(st, 3),
                         columnText(st, 4), 1});
        });
  for (auto& r : out) r.lastAttempt = lastAttempt(r.id);
  return out;
}

int Metadata::lastAttempt(const std::string& jobId) {
  int attempt = 1;
  for (const char* sql : {"SELECT MAX(run) FROM exceptions WHERE job_id = ?",
                          "SELECT MAX(attempt) FROM restarts WHERE job_id = ?",
                          "SELECT MAX(attempt) FROM restores WHERE job_id = ?",
                          "SELECT MAX(attempt) FROM checkpoints WHERE job_id = ?"})
    query(sql, {jobId}, [&](sqlite3_stmt* st) {
      if (sqlite3_column_type(st, 0) != SQLITE_NULL) attempt = std::max(attempt, sqlite3_column_int(st, 0));
    });
  return attempt;
}

void Metadata::settleRun(const std::string& id, const std::string& reason) {
  ExceptionRecord e;
  e.message = reason;
  e.rootCause = true;
  e.attempt = lastAttempt(id);
  exception(id, e);
  runStatus(id, "FAILED");
}

int Metadata::settleRuns(const std::string& reason) {
  awaitWrites(std::chrono::seconds(10));  // the runs as every status change so far left them
  std::vector<std::string> open;
  query("SELECT job_id FROM runs WHERE status NOT IN ('FINISHED', 'FAILED', 'CANCELED')", {},
        [&](sqlite3_stmt* st) { open.push_back(columnText(st, 0)); });
  for (const auto& id : open) settleRun(id, reason);
  return static_cast<int>(open.size());
}

bool Metadata::jobExists(const std::string& jobId) {
  awaitWrites(std::chrono::seconds(1));
  bool found = false;
  query("SELECT 1 FROM jobs WHERE id = ?", {jobId}, [&](sqlite3_stmt*) { found = true; });
  return found;
}

void Metadata::taskManagerSeen(const std::string& name, int slots, const std::string& dataAddress) {
  const std::string now = std::to_string(nowMs());
  enqueue({{"INSERT INTO taskmanagers (name, slots, data_address, first_seen_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET slots = excluded.slots, data_address = excluded.data_address, "
            "last_seen_ms = excluded.last_seen_ms, lost_ms = NULL, lost_reason = NULL",
            {name, std::to_string(slots), dataAddress, now, now}}});
}

void Metadata::taskManagerLost(const std::string& name, const std::string& reason) {
  enqueue({{"UPDATE taskmanagers SET lost_ms = ?, lost_reason = ? WHERE name = ?", {std::to_string(nowMs()), reason, name}}});
}

}  // namespace weir::cluster

// sink.sqlite: writes its input into a table of a SQLite database file.
//
// Params (catalog): path (relative to the job file's folder), table, key (field list,
// default empty).
//
// Table: created when absent (CREATE TABLE IF NOT EXISTS), one column per input field in
// schema order, typed int64 -> INTEGER, double -> REAL, string -> TEXT, bool -> INTEGER
// (0/1), timestamp -> TEXT (ISO-8601 UTC with milliseconds, as in CSV), with PRIMARY KEY
// (key...) when key is given. An existing table must have a column of every input field's
// name (extra columns are left alone, so they need a default or must allow null); when key
// is given and the table existed, an index on the key columns is created if it has none of
// ours, so that updates find their row without a scan.
//
// Rows, one transaction per input batch (BEGIN IMMEDIATE ... COMMIT):
//   - without key: every row is inserted, whatever its kind (validation refuses an update
//     stream without key);
//   - with key, an upsert: +I and +U update the row whose key columns equal the record's
//     (IS, so a null key value matches a null) and insert it when there is none; -D and -U
//     delete it. A -U directly followed by the +U of the same key (how aggregate and window
//     emit an update) skips the delete, the +U replaces the row. Deleting on -U keeps the
//     table right when a filter between the aggregate and the sink dropped the +U. (An
//     UPDATE, then INSERT when no row changed, rather than INSERT ... ON CONFLICT DO UPDATE:
//     SQL's UNIQUE never matches null, so ON CONFLICT would duplicate the row of a null key,
//     which aggregate keeps as a group of its own.)
//   So the table ends with exactly the final result of each key.
//
// Errors: a record SQLite refuses (a constraint or type check of an existing table, a
// value too big) is a dead letter (the row as JSON) and the batch goes on; anything else
// (cannot open or create, disk full, locked beyond the busy timeout) ends the job.
//
// Concurrency: the catalog runs the sink as one subtask (SQLite has one writer at a time).
// The connection uses WAL journaling and a busy timeout of 10 s, so readers (a workbench, the
// sqlite3 shell) can read the table while the job writes, and a reader's lock delays a
// commit rather than failing it.
//
// Checkpoints (ctx.checkpointing; docs/fault-tolerance.md "Sources and sinks under
// checkpoints"): exactly-once by two-phase commit. Rows are not written as they come:
//   - processBatch keeps the batch; snapshotState(n) stages the rows kept since the last
//     snapshot for checkpoint n and writes into the operator state every checkpoint's rows
//     still staged (runtime/io/row_codec.h), so they survive a crash between the
//     checkpoint's completion and its notification;
//   - notifyCheckpointComplete(m) commits the staged checkpoints <= m, one transaction each:
//     the rows (as above: inserts, or upserts with a key) and the checkpoint id in the table
//     _weir_commits (sink = node id, subtask, run, checkpoint_id: the last checkpoint that
//     run of that sink subtask committed). A checkpoint at or below the recorded one is
//     skipped, so committing it again (a replay after a restore) changes nothing;
//   - restoreState commits what the restored states staged (their checkpoints are complete),
//     for old subtasks i with i % parallelism == subtask, under the old subtask's run;
//   - `run` is a random token drawn by each instance when it opens (written in its state):
//     a new run of the job, whose checkpoint ids start again at 1, never matches the
//     commits of an earlier one.
//   finish() only marks the end: the final checkpoint commits the last rows. The rows of
//   one checkpoint interval are kept in memory (and in the snapshot) until it commits.
//   Dead letters are written when a checkpoint commits (at least once: a replay may write
//   one again).
//
// Lifecycle: open() opens the database and prepares the table and statements; each
// processBatch() is one transaction (without checkpoints); finish() closes the database,
// reporting errors (without checkpoints); close() rolls back an unfinished transaction and
// closes without throwing.

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>
#include <system_error>

#include "core/text.h"
#include "runtime/io/params.h"
#include "runtime/io/row_codec.h"
#include "runtime/dead_letter.h"
#include "runtime/registry.h"

namespace weir {
namespace {

std::string quoteIdentifier(std::string_view name) {
  std::string q = "\"";
  for (char c : name) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

const char* sqlType(Type t) {
  switch (t) {
    case Type::Int64: return "INTEGER";
    case Type::Double: return "REAL";
    case Type::String: return "TEXT";
    case Type::Bool: return "INTEGER";
    case Type::Timestamp: return "TEXT";
  }
  return "";
}

/// A prepared statement, finalized when destroyed.
class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { reset(); }
  void prepare(sqlite3* db, const std::string& sql) {
    reset();
    if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
      throw JobError(std::string("sink.sqlite: cannot prepare ") + sql + ": " + sqlite3_errmsg(db));
  }
  void reset() {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = nullptr;
  }
  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteSink final : public Operator {
 public:
  explicit SqliteSink(const OperatorContext& ctx) {
    path_ = params::string(ctx.params, "path");
    table_ = params::string(ctx.params, "table");
    if (table_.empty()) params::fail("table", "must not be empty");
    for (const auto& k : ctx.params.value("key", nlohmann::json::array())) keyNames_.push_back(k.get<std::string>());
  }

  void open(OperatorContext& ctx) override {
    Operator::open(ctx);
    schema_ = ctx.inputSchemas.at(0);
    const Schema& s = *schema_;
    for (const auto& name : keyNames_) {
      const int i = s.indexOf(name);
      if (i < 0) throw JobError("key: no field '" + name + "'");
      keyFields_.push_back(i);
    }
    for (std::size_t c = 0; c < s.size(); ++c)
      if (std::find(keyFields_.begin(), keyFields_.end(), static_cast<int>(c)) == keyFields_.end())
        valueFields_.push_back(static_cast<int>(c));

    file_ = ctx.resolve(path_);
    if (file_.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(file_.parent_path(), ec);
      if (ec) throw JobError(file_.parent_path().string() + ": cannot create folder: " + ec.message());
    }
    if (sqlite3_open_v2(file_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                        nullptr) != SQLITE_OK) {
      const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      throw JobError(file_.string() + ": cannot open the database: " + msg);
    }
    sqlite3_busy_timeout(db_, 10000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    prepareTable();
    prepareStatements();
    checkpointing_ = ctx.checkpointing;
    if (checkpointing_) {
      prepareCommits();
      std::random_device rd;
      const std::uint64_t token = (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
                                  static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(token));
      run_ = hex;
    }
  }

  void processBatch(int, const RecordBatch& batch, Output&) override {
    const std::size_t n = batch.numRows();
    if (n == 0) return;
    if (checkpointing_) {
      current_.push_back(batch);  // batches are immutable: keeping one is cheap
      return;
    }
    exec("BEGIN IMMEDIATE");
    inTransaction_ = true;
    applyBatch(batch);
    exec("COMMIT");
    inTransaction_ = false;
  }

  void processWatermark(Watermark, Output&) override {}

  void finish(Output&) override {
    // With checkpoints the final checkpoint commits the last rows: keep the database open.
    if (checkpointing_) return;
    insert_.reset();
    update_.reset();
    delete_.reset();
    if (db_ && sqlite3_close(db_) != SQLITE_OK) {
      const std::string msg = sqlite3_errmsg(db_);
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw JobError(file_.string() + ": cannot close the database: " + msg);
    }
    db_ = nullptr;
  }

  void close() override {
    if (db_ && inTransaction_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    inTransaction_ = false;
    lastCommit_.reset();
    recordCommit_.reset();
    insert_.reset();
    update_.reset();
    delete_.reset();
    if (db_) sqlite3_close_v2(db_);
    db_ = nullptr;
  }


  void snapshotState(std::int64_t checkpointId, ByteWriter& out) override {
    if (!checkpointing_) return;
    if (!current_.empty()) {
      Staged s;
      s.checkpointId = checkpointId;
      ByteWriter rows;
      writeRows(*schema_, current_, rows);
      s.rows = rows.take();
      s.batches = std::move(current_);
      current_.clear();
      staged_.push_back(std::move(s));
    }
    out.u8(kStateVersion);
    out.str(run_);
    out.u32(static_cast<std::uint32_t>(staged_.size()));
    for (const Staged& s : staged_) {
      out.i64(s.checkpointId);
      out.bytes(s.rows);
    }
  }

  void notifyCheckpointComplete(std::int64_t checkpointId) override {
    if (!checkpointing_) return;
    while (!staged_.empty() && staged_.front().checkpointId <= checkpointId) {
      const Staged& s = staged_.front();
      commit(ctx_->subtask, run_, s.checkpointId, s.batches);
      staged_.erase(staged_.begin());
    }
  }

  void restoreState(const std::vector<std::string>& states) override {
    // Read every state first: a corrupt one is refused before anything is committed.
    struct Restored {
      int subtask;
      std::string run;
      std::int64_t checkpointId;
      RecordBatch rows;
    };
    std::vector<Restored> todo;
    const std::size_t p = static_cast<std::size_t>(std::max(1, ctx_->parallelism));
    for (std::size_t i = 0; i < states.size(); ++i) {
      if (states[i].empty()) continue;
      ByteReader r(states[i], ctx_->nodeId + " (sink.sqlite) state of old subtask " + std::to_string(i));
      if (const std::uint8_t v = r.u8(); v != kStateVersion) r.fail("unknown state version " + std::to_string(v));
      const std::string run = r.str();
      if (run.size() != 16 || run.find_first_not_of("0123456789abcdef") != std::string::npos) r.fail("a bad run token");
      const std::uint32_t n = r.u32();
      std::int64_t last = INT64_MIN;
      for (std::uint32_t k = 0; k < n; ++k) {
        const std::int64_t id = r.i64();
        if (id <= last) r.fail("staged checkpoints out of order");
        last = id;
        ByteReader rows(r.bytes(), r.what() + ", rows of checkpoint " + std::to_string(id));
        RecordBatch batch = readRows(schema_, rows);
        if (!rows.atEnd()) rows.fail(std::to_string(rows.remaining()) + " bytes left over");
        if (i % p == static_cast<std::size_t>(ctx_->subtask))
          todo.push_back(Restored{static_cast<int>(i), run, id, std::move(batch)});
      }
      if (!r.atEnd()) r.fail(std::to_string(r.remaining()) + " bytes left over");
    }
    // (Also when the job takes no checkpoints now: the rows belong to a completed one.)
    if (!todo.empty()) prepareCommits();
    for (const Restored& t : todo) commit(t.subtask, t.run, t.checkpointId, {t.rows});
  }

 private:
  static constexpr std::uint8_t kStateVersion = 1;

  /// Rows staged for one checkpoint: the batches, and the same rows as state bytes.
  struct Staged {
    std::int64_t checkpointId = 0;
    std::vector<RecordBatch> batches;
    std::string rows;
  };

  /// The commit table and its statements (once).
  void prepareCommits() {
    if (lastCommit_) return;
    exec("CREATE TABLE IF NOT EXISTS _weir_commits (sink TEXT NOT NULL, subtask INTEGER NOT NULL, "
         "run TEXT NOT NULL, checkpoint_id INTEGER NOT NULL, PRIMARY KEY (sink, subtask, run))");
    lastCommit_.prepare(db_, "SELECT checkpoint_id FROM _weir_commits WHERE sink = ? AND subtask = ? AND run = ?");
    recordCommit_.prepare(db_, "INSERT OR REPLACE INTO _weir_commits (sink, subtask, run, checkpoint_id) VALUES (?, ?, ?, ?)");
  }

  /// One transaction: the rows of checkpoint `checkpointId` of (subtask, run), unless that
  /// run of that sink subtask already committed it (or a later one).
  void commit(int subtask, const std::string& run, std::int64_t checkpointId, const std::vector<RecordBatch>& batches) {
    exec("BEGIN IMMEDIATE");
    inTransaction_ = true;
    bindKey(lastCommit_, subtask, run);
    const int rc = sqlite3_step(lastCommit_.get());
    const bool done = rc == SQLITE_ROW && sqlite3_column_int64(lastCommit_.get(), 0) >= checkpointId;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      const std::string msg = sqlite3_errmsg(db_);
      sqlite3_reset(lastCommit_.get());
      throw JobError(file_.string() + ": reading _weir_commits: " + msg);
    }
    sqlite3_reset(lastCommit_.get());
    if (!done) {
      for (const RecordBatch& b : batches) applyBatch(b);
      bindKey(recordCommit_, subtask, run);
      sqlite3_bind_int64(recordCommit_.get(), 4, checkpointId);
      const int rc2 = sqlite3_step(recordCommit_.get());
      sqlite3_reset(recordCommit_.get());
      if (rc2 != SQLITE_DONE) throw JobError(file_.string() + ": recording the commit: " + sqlite3_errmsg(db_));
    }
    exec("COMMIT");
    inTransaction_ = false;
  }

  void bindKey(Statement& st, int subtask, const std::string& run) {
    sqlite3_bind_text64(st.get(), 1, ctx_->nodeId.data(), ctx_->nodeId.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    sqlite3_bind_int64(st.get(), 2, subtask);
    sqlite3_bind_text64(st.get(), 3, run.data(), run.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }

  /// Writes the rows of `batch` inside the open transaction.
  void applyBatch(const RecordBatch& batch) {
    const std::size_t n = batch.numRows();
    for (std::size_t r = 0; r < n; ++r) {
      if (keyFields_.empty()) {
        bindColumns(insert_, batch, r, allFields(), 1);
        step(insert_, batch, r);
        continue;
      }
      switch (batch.kind(r)) {
        case RowKind::Insert:
        case RowKind::UpdateAfter:
          upsert(batch, r);
          break;
        case RowKind::UpdateBefore:
          // The +U that follows replaces the row; delete only when none follows.
          if (r + 1 < n && batch.kind(r + 1) == RowKind::UpdateAfter && sameKey(batch, r, r + 1)) break;
          [[fallthrough]];
        case RowKind::Delete:
          bindColumns(delete_, batch, r, keyFields_, 1);
          step(delete_, batch, r);
          break;
      }
    }
    for (Statement* st : {&insert_, &update_, &delete_})
      if (*st) sqlite3_clear_bindings(st->get());  // bound strings point into the batch
  }

  const std::vector<int>& allFields() {
    if (all_.empty())
      for (std::size_t c = 0; c < schema_->size(); ++c) all_.push_back(static_cast<int>(c));
    return all_;
  }

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw JobError(file_.string() + ": " + sql + ": " + msg);
    }
  }

  /// Creates the table, or checks that an existing one has every column.
  void prepareTable() {
    const Schema& s = *schema_;
    const std::string table = quoteIdentifier(table_);
    std::vector<std::string> existing;
    {
      Statement info;
      info.prepare(db_, "PRAGMA table_info(" + table + ")");
      while (sqlite3_step(info.get()) == SQLITE_ROW)
        existing.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(info.get(), 1)));
    }
    if (existing.empty()) {
      std::string sql = "CREATE TABLE IF NOT EXISTS " + table + " (";
      for (std::size_t c = 0; c < s.size(); ++c) {
        if (c) sql += ", ";
        sql += quoteIdentifier(s.field(c).name) + " " + sqlType(s.field(c).type);
      }
      if (!keyFields_.empty()) sql += ", PRIMARY KEY (" + columnList(keyFields_) + ")";
      exec(sql + ")");
      return;
    }
    std::string missing;
    for (std::size_t c = 0; c < s.size(); ++c)
      if (std::find(existing.begin(), existing.end(), s.field(c).name) == existing.end())
        missing += (missing.empty() ? "" : ", ") + s.field(c).name;
    if (!missing.empty()) {
      std::string has;
      for (const auto& e : existing) has += (has.empty() ? "" : ", ") + e;
      throw JobError(file_.string() + ": table " + table_ + " exists without the column(s) " + missing +
                     " of the input (it has " + has + "); drop it or write to another table");
    }
    if (!keyFields_.empty())
      exec("CREATE INDEX IF NOT EXISTS " + quoteIdentifier(table_ + "_weir_key") + " ON " + table + " (" +
           columnList(keyFields_) + ")");
  }

  std::string columnList(const std::vector<int>& fields) const {
    std::string out;
    for (int f : fields) out += (out.empty() ? "" : ", ") + quoteIdentifier(schema_->field(static_cast<std::size_t>(f)).name);
    return out;
  }

  std::string keyCondition() const {
    std::string out;
    for (int f : keyFields_)
      out += (out.empty() ? "" : " AND ") + quoteIdentifier(schema_->field(static_cast<std::size_t>(f)).name) + " IS ?";
    return out;
  }

  void prepareStatements() {
    const std::string table = quoteIdentifier(table_);
    std::string values;
    for (std::size_t c = 0; c < schema_->size(); ++c) values += c ? ", ?" : "?";
    insert_.prepare(db_, "INSERT INTO " + table + " (" + columnList(allFields()) + ") VALUES (" + values + ")");
    if (keyFields_.empty()) return;
    delete_.prepare(db_, "DELETE FROM " + table + " WHERE " + keyCondition());
    if (!valueFields_.empty()) {
      std::string set;
      for (int f : valueFields_)
        set += (set.empty() ? "" : ", ") + quoteIdentifier(schema_->field(static_cast<std::size_t>(f)).name) + " = ?";
      update_.prepare(db_, "UPDATE " + table + " SET " + set + " WHERE " + keyCondition());
    }
  }

  /// Replaces the key's row, or inserts it.
  void upsert(const RecordBatch& batch, std::size_t r) {
    if (update_) {
      bindColumns(update_, batch, r, valueFields_, 1);
      bindColumns(update_, batch, r, keyFields_, static_cast<int>(valueFields_.size()) + 1);
      if (!step(update_, batch, r)) return;
      if (sqlite3_changes(db_) > 0) return;
    } else {
      // Every column is a key column: the row is its key; insert it unless it is there.
      bindColumns(delete_, batch, r, keyFields_, 1);
      if (!step(delete_, batch, r)) return;
    }
    bindColumns(insert_, batch, r, allFields(), 1);
    step(insert_, batch, r);
  }

  void bindColumns(Statement& st, const RecordBatch& batch, std::size_t r, const std::vector<int>& fields, int first) {
    sqlite3_stmt* s = st.get();
    int i = first;
    for (int f : fields) {
      const Column& col = batch.column(static_cast<std::size_t>(f));
      if (col.isNull(r)) {
        sqlite3_bind_null(s, i++);
        continue;
      }
      switch (col.type()) {
        case Type::Int64: sqlite3_bind_int64(s, i, col.int64(r)); break;
        case Type::Double: sqlite3_bind_double(s, i, col.dbl(r)); break;
        case Type::Bool: sqlite3_bind_int(s, i, col.boolean(r) ? 1 : 0); break;
        case Type::String: {
          const std::string_view v = col.str(r);
          sqlite3_bind_text64(s, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
          break;
        }
        case Type::Timestamp: {
          const std::string v = formatTimestamp(col.int64(r));
          sqlite3_bind_text64(s, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
          break;
        }
      }
      ++i;
    }
  }

  /// Runs a bound statement. False when SQLite refused the record (a dead letter).
  bool step(Statement& st, const RecordBatch& batch, std::size_t r) {
    const int rc = sqlite3_step(st.get());
    sqlite3_reset(st.get());
    if (rc == SQLITE_DONE) return true;
    const int primary = rc & 0xff;
    const std::string msg = sqlite3_errmsg(db_);
    if (primary == SQLITE_CONSTRAINT || primary == SQLITE_MISMATCH || primary == SQLITE_TOOBIG) {
      DeadLetter d;
      d.file = file_.string();
      d.reason = "table " + table_ + ": " + msg;
      d.record = recordJson(batch, *schema_, r, /*withOp=*/true);
      ctx_->deadLetter(d);
      return false;
    }
    throw JobError(file_.string() + ": table " + table_ + ": " + msg);
  }

  bool sameKey(const RecordBatch& batch, std::size_t a, std::size_t b) const {
    for (int f : keyFields_) {
      const Column& col = batch.column(static_cast<std::size_t>(f));
      if (col.isNull(a) != col.isNull(b)) return false;
      if (col.isNull(a)) continue;
      switch (col.type()) {
        case Type::Int64:
        case Type::Timestamp:
          if (col.int64(a) != col.int64(b)) return false;
          break;
        case Type::Double:
          if (col.dbl(a) != col.dbl(b)) return false;
          break;
        case Type::Bool:
          if (col.boolean(a) != col.boolean(b)) return false;
          break;
        case Type::String:
          if (col.str(a) != col.str(b)) return false;
          break;
      }
    }
    return true;
  }


  std::string path_, table_;
  std::vector<std::string> keyNames_;
  SchemaPtr schema_;
  std::vector<int> keyFields_, valueFields_, all_;
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
  bool inTransaction_ = false;
  Statement insert_, update_, delete_;
  // Checkpoints.
  bool checkpointing_ = false;
  std::string run_;                    // this instance's run token (16 hex digits)
  std::vector<RecordBatch> current_;   // rows since the last snapshot
  std::vector<Staged> staged_;         // staged, not yet committed, ascending ids
  Statement lastCommit_, recordCommit_;
};

}  // namespace

void registerSqliteSink(OperatorRegistry& r) {
  r.add("sink.sqlite", [](const OperatorContext& ctx) { return std::make_unique<SqliteSink>(ctx); });
}

}  // namespace weir

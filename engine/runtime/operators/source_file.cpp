#include "runtime/operators/source_file.h"

#include <algorithm>

#include "runtime/io/params.h"
#include "runtime/operators/sink_file.h"
#include "runtime/registry.h"

namespace weir {

FileSource::FileSource(const OperatorContext& ctx) {
  const nlohmann::json& p = ctx.params;
  path_ = params::string(p, "path");
  format_ = params::format(p, path_);
  if (!ctx.outputSchemas.empty() && ctx.outputSchemas[0])
    schema_ = ctx.outputSchemas[0];
  else
    schema_ = params::schema(p, "schema");
  readerOptions_.header = params::boolean(p, "header", true);
  const std::string delimiter = params::string(p, "delimiter", std::string(","));
  if (delimiter.size() != 1 || delimiter[0] == '"' || delimiter[0] == '\n' || delimiter[0] == '\r')
    params::fail("delimiter", "must be one character other than a quote or a line break");
  readerOptions_.delimiter = delimiter[0];
  if (const nlohmann::json* ts = params::find(p, "timestamp")) {
    if (!ts->is_string()) params::fail("timestamp", "must be a field name");
    const std::string name = ts->get<std::string>();
    const int idx = schema_->indexOf(name);
    if (idx < 0) params::fail("timestamp", "no field '" + name + "' in the schema");
    const Type t = schema_->field(static_cast<std::size_t>(idx)).type;
    if (t != Type::Timestamp && t != Type::Int64)
      params::fail("timestamp", "field '" + name + "' is " + std::string(typeName(t)) +
                                    ", not a timestamp");
    readerOptions_.eventTimeField = idx;
    watermarks_.emplace(
        WatermarkStrategy::fromParams(p.value("watermark", nlohmann::json::object()), ctx.batchMode));
  }
  batchSize_ = static_cast<std::size_t>(params::int64(p, "batch_size", 1024, 1));
  follow_ = params::boolean(p, "follow", false);
  readerOptions_.follow = follow_;
}

FileSource::~FileSource() = default;

void FileSource::open(OperatorContext& ctx) {
  Operator::open(ctx);
  const std::string resolved = ctx.resolve(path_).string();
  std::vector<FileSplit> plan;
  if (auto it = ctx.params.find("_splits"); it != ctx.params.end() && it->is_array()) {
    // The planner enumerated the files once for every subtask (planFileSplits): all
    // subtasks cut the input the same way even if a file grows while the job starts.
    for (const auto& s : *it)
      plan.push_back(FileSplit{s.at("path").get<std::string>(), s.at("start").get<std::int64_t>(),
                               s.at("end").get<std::int64_t>(), s.at("index").get<int>(),
                               s.at("subtask").get<int>()});
  } else {
    SplitOptions so;
    so.wholeFiles = follow_;
    plan = splitFiles(resolved, ctx.parallelism, so);
  }
  planSize_ = plan.size();
  splits_ = splitsOfSubtask(plan, ctx.subtask);
  readers_.clear();
  readers_.resize(splits_.size());
  done_.assign(splits_.size(), false);
  resume_.assign(splits_.size(), std::nullopt);
  current_ = 0;
  if (!restored_.is_null()) {
    const nlohmann::json& list = restored_.at("splits");
    if (!list.is_array() || list.size() != splits_.size())
      throw JobError(ctx.where() + ": the saved position does not match the input files");
    for (std::size_t k = 0; k < splits_.size(); ++k) {
      const nlohmann::json& e = list[k];
      if (e.at("split").get<int>() != splits_[k].index ||
          e.at("file").get<std::string>() != splits_[k].path)
        throw JobError(ctx.where() + ": the saved position does not match the input files (" +
                       splits_[k].path + ")");
      done_[k] = e.at("done").get<bool>();
      const std::int64_t offset = e.at("offset").get<std::int64_t>();
      if (!done_[k] && offset >= 0) resume_[k] = ReadPosition{offset, e.at("line").get<std::int64_t>()};
    }
    while (current_ < splits_.size() && done_[current_]) ++current_;
  }
  builder_ = std::make_unique<BatchBuilder>(schema_, batchSize_);
  if (follow_) {
    for (std::size_t k = 0; k < splits_.size(); ++k) readers_[k] = openReader(k);
  }
  if (watermarks_) watermarks_->start(wallClockMs());
}

void FileSource::emitBatch(Output& out) {
  if (watermarks_) watermarks_->collect(builder_->finish(), wallClockMs(), out);
  else out.collect(0, builder_->finish());
}

std::int64_t FileSource::processingDeadline() const {
  return watermarks_ ? watermarks_->nextDeadline() : kNoDeadline;
}

void FileSource::onProcessingTime(std::int64_t nowMs, Output& out) {
  if (watermarks_) watermarks_->onProcessingTime(nowMs, out);
}

std::unique_ptr<RecordReader> FileSource::openReader(std::size_t k) {
  OperatorContext* ctx = ctx_;
  return makeReader(format_, schema_, splits_[k], readerOptions_,
                    [ctx](const DeadLetter& d) { ctx->deadLetter(d); }, resume_[k]);
}

SourceStatus FileSource::emitNext(Output& out) {
  if (follow_) return emitFollowing(out);
  while (current_ < splits_.size()) {
    if (done_[current_]) {
      ++current_;
      continue;
    }
    std::unique_ptr<RecordReader>& reader = readers_[current_];
    if (!reader) reader = openReader(current_);
    const ReadStatus st = reader->read(*builder_, batchSize_);
    const bool ended = st == ReadStatus::End || reader->atEnd();
    if (ended) {
      done_[current_] = true;
      reader.reset();
      ++current_;
    }
    if (builder_->numRows() > 0) {
      emitBatch(out);
      return SourceStatus::MoreAvailable;
    }
    if (!ended) return SourceStatus::MoreAvailable;  // only dead letters this time
  }
  return SourceStatus::EndOfInput;
}

SourceStatus FileSource::emitFollowing(Output& out) {
  const std::size_t n = readers_.size();
  if (n == 0) return SourceStatus::EndOfInput;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t at = (current_ + k) % n;
    const ReadStatus st = readers_[at]->read(*builder_, batchSize_);
    if (builder_->numRows() > 0 || st == ReadStatus::More) {
      current_ = (at + 1) % n;
      if (builder_->numRows() > 0) emitBatch(out);
      return SourceStatus::MoreAvailable;
    }
  }
  return SourceStatus::NothingAvailable;
}

void FileSource::close() {
  readers_.clear();
  builder_.reset();
}

ReadPosition FileSource::positionOf(std::size_t k) const {
  if (readers_[k]) return readers_[k]->position();
  if (resume_[k] && !done_[k]) return *resume_[k];
  return ReadPosition{-1, 0};
}

namespace {

constexpr std::uint8_t kStateVersion = 1;
enum SplitState : std::uint8_t { kNotStarted = 0, kReading = 1, kDone = 2 };

/// One split of a saved plan, with where it goes on.
struct SavedSplit {
  FileSplit split;
  std::uint8_t state = kNotStarted;
  ReadPosition pos;
};

}  // namespace

void FileSource::snapshotState(std::int64_t, ByteWriter& out) {
  out.u8(kStateVersion);
  out.boolean(follow_);
  out.u32(static_cast<std::uint32_t>(planSize_));
  out.u32(static_cast<std::uint32_t>(splits_.size()));
  for (std::size_t k = 0; k < splits_.size(); ++k) {
    const FileSplit& s = splits_[k];
    out.u32(static_cast<std::uint32_t>(s.index));
    out.str(s.path);
    out.i64(s.start);
    out.i64(s.end);
    const ReadPosition pos = positionOf(k);
    out.u8(done_[k] ? kDone : pos.offset >= 0 ? kReading : kNotStarted);
    out.i64(pos.offset);
    out.i64(pos.line);
  }
}

void FileSource::restoreState(const std::vector<std::string>& states) {
  if (std::all_of(states.begin(), states.end(), [](const std::string& s) { return s.empty(); })) return;
  std::vector<std::optional<SavedSplit>> plan;
  std::optional<std::size_t> planSize;
  // Every split takes at least 41 bytes of some state: a plan larger than that is corrupt.
  std::size_t totalBytes = 0;
  for (const std::string& s : states) totalBytes += s.size();
  for (std::size_t i = 0; i < states.size(); ++i) {
    ByteReader r(states[i], ctx_->nodeId + " (source.file) state of old subtask " + std::to_string(i));
    if (states[i].empty()) r.fail("missing (every subtask of a file source writes its position)");
    if (const std::uint8_t v = r.u8(); v != kStateVersion) r.fail("unknown state version " + std::to_string(v));
    if (r.boolean() != follow_) r.fail("saved with follow " + std::string(follow_ ? "off" : "on") + ", the job now has it " + (follow_ ? "on" : "off"));
    const std::size_t size = r.u32();
    if (planSize && *planSize != size) r.fail("the old subtasks disagree on the number of splits");
    if (size > totalBytes / 41) r.fail("a plan of " + std::to_string(size) + " splits does not fit the states");
    planSize = size;
    if (plan.empty()) plan.resize(size);
    const std::uint32_t n = r.u32();
    if (n > size) r.fail(std::to_string(n) + " splits of a plan of " + std::to_string(size));
    for (std::uint32_t k = 0; k < n; ++k) {
      SavedSplit s;
      const std::uint32_t index = r.u32();
      if (index >= size) r.fail("split " + std::to_string(index) + " of a plan of " + std::to_string(size));
      if (plan[index]) r.fail("split " + std::to_string(index) + " saved twice");
      s.split.index = static_cast<int>(index);
      s.split.path = r.str();
      s.split.start = r.i64();
      s.split.end = r.i64();
      s.state = r.u8();
      s.pos.offset = r.i64();
      s.pos.line = r.i64();
      if (s.split.path.empty() || s.split.start < 0 || s.split.end < s.split.start)
        r.fail("split " + std::to_string(index) + " has a bad byte range");
      if (s.state > kDone) r.fail("split " + std::to_string(index) + " has a bad state");
      if (s.state == kReading && (s.pos.offset < 0 || s.pos.line < 0))
        r.fail("split " + std::to_string(index) + " has a bad position");
      plan[index] = std::move(s);
    }
    if (!r.atEnd()) r.fail(std::to_string(r.remaining()) + " bytes left over");
  }
  for (std::size_t i = 0; i < plan.size(); ++i)
    if (!plan[i])
      throw SnapshotError(ctx_->nodeId + " (source.file): no old subtask saved split " + std::to_string(i));

  // The saved plan replaces the one open() made; this subtask takes its share of it.
  const int p = std::max(1, ctx_->parallelism);
  readers_.clear();
  splits_.clear();
  done_.clear();
  resume_.clear();
  planSize_ = plan.size();
  for (std::optional<SavedSplit>& s : plan) {
    if (s->split.index % p != ctx_->subtask) continue;
    s->split.subtask = ctx_->subtask;
    splits_.push_back(s->split);
    done_.push_back(s->state == kDone);
    resume_.push_back(s->state == kReading ? std::optional<ReadPosition>(s->pos) : std::nullopt);
  }
  readers_.resize(splits_.size());
  current_ = 0;
  while (current_ < splits_.size() && done_[current_]) ++current_;
  if (follow_) {
    for (std::size_t k = 0; k < splits_.size(); ++k) readers_[k] = openReader(k);
    current_ = 0;
  }
}

nlohmann::json FileSource::position() const {
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t k = 0; k < splits_.size(); ++k) {
    nlohmann::json e = {{"split", splits_[k].index}, {"file", splits_[k].path}};
    const ReadPosition pos = positionOf(k);
    e["offset"] = pos.offset;
    e["line"] = pos.line;
    e["done"] = static_cast<bool>(done_[k]);
    list.push_back(std::move(e));
  }
  return {{"splits", std::move(list)}};
}

void FileSource::restorePosition(const nlohmann::json& position) {
  if (!position.is_object() || !position.contains("splits"))
    throw JobError("source.file: a saved position must be {\"splits\": [...]}");
  restored_ = position;
}

void registerFileOperators(OperatorRegistry& r) {
  r.add("source.file", [](const OperatorContext& ctx) -> std::unique_ptr<Operator> {
    return std::make_unique<FileSource>(ctx);
  });
  r.add("sink.file", [](const OperatorContext& ctx) -> std::unique_ptr<Operator> {
    return std::make_unique<FileSink>(ctx);
  });
}

}  // namespace weir

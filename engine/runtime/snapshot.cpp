#include "runtime/snapshot.h"

#include <algorithm>

namespace weir {
namespace {

constexpr std::string_view kMagic = "WEIRSNAP";
constexpr std::uint32_t kTrailer = 0x454e4f44;  // "DONE" in little-endian bytes

}  // namespace

std::string OperatorSnapshot::encode() const {
  ByteWriter w;
  w.raw(kMagic);
  w.u32(kSnapshotVersion);
  w.str(nodeId);
  w.str(type);
  w.u32(static_cast<std::uint32_t>(subtask));
  w.u32(static_cast<std::uint32_t>(parallelism));
  w.u32(static_cast<std::uint32_t>(maxParallelism));
  w.i64(checkpointId);
  w.bytes(operatorState);
  w.u32(static_cast<std::uint32_t>(keyGroups.size()));
  for (const auto& [group, bytes] : keyGroups) {
    w.u32(static_cast<std::uint32_t>(group));
    w.bytes(bytes);
  }
  w.u32(kTrailer);
  return w.take();
}

OperatorSnapshot OperatorSnapshot::decode(std::string_view bytes, const std::string& what) {
  ByteReader r(bytes, what);
  if (r.remaining() < kMagic.size() || r.raw(kMagic.size()) != kMagic) r.fail("not a Weir snapshot file");
  const std::uint32_t version = r.u32();
  if (version != kSnapshotVersion)
    r.fail("snapshot format version " + std::to_string(version) + "; this build reads version " +
           std::to_string(kSnapshotVersion));
  OperatorSnapshot s;
  s.nodeId = r.str();
  s.type = r.str();
  s.subtask = static_cast<int>(r.u32());
  s.parallelism = static_cast<int>(r.u32());
  s.maxParallelism = static_cast<int>(r.u32());
  s.checkpointId = r.i64();
  if (s.parallelism < 1 || s.subtask >= s.parallelism || s.maxParallelism < s.parallelism)
    r.fail("subtask " + std::to_string(s.subtask) + " of " + std::to_string(s.parallelism) +
           " with max parallelism " + std::to_string(s.maxParallelism) + " makes no sense");
  s.operatorState = std::string(r.bytes());
  const std::uint32_t groups = r.u32();
  int last = -1;
  for (std::uint32_t i = 0; i < groups; ++i) {
    const int group = static_cast<int>(r.u32());
    if (group <= last || group >= s.maxParallelism) r.fail("key group " + std::to_string(group) + " out of order or range");
    last = group;
    s.keyGroups.emplace_back(group, std::string(r.bytes()));
  }
  if (r.u32() != kTrailer || !r.atEnd()) r.fail("the file does not end where its contents do (cut short or appended to)");
  return s;
}

std::int64_t OperatorSnapshot::stateBytes() const {
  auto n = static_cast<std::int64_t>(operatorState.size());
  for (const auto& g : keyGroups) n += static_cast<std::int64_t>(g.second.size());
  return n;
}

OperatorSnapshot snapshotOperator(Operator& op, OperatorContext& ctx, std::int64_t checkpointId) {
  OperatorSnapshot s;
  s.nodeId = ctx.nodeId;
  s.type = ctx.type;
  s.subtask = ctx.subtask;
  s.parallelism = ctx.parallelism;
  s.maxParallelism = ctx.maxParallelism;
  s.checkpointId = checkpointId;
  ByteWriter w;
  op.snapshotState(checkpointId, w);
  s.operatorState = w.take();
  if (KeyedStateBackend* backend = ctx.keyedStateIfAny()) {
    const KeyGroupRange range = backend->keyGroups();
    for (int g = range.first; g < range.end; ++g) {
      bool any = false;
      for (const auto& [name, t] : backend->tables()) any = any || t->sizeOfGroup(g) > 0;
      if (!any) continue;
      ByteWriter gw;
      backend->snapshotGroup(g, gw);
      s.keyGroups.emplace_back(g, gw.take());
    }
  }
  return s;
}

void restoreOperator(Operator& op, OperatorContext& ctx, const std::vector<OperatorSnapshot>& old) {
  if (old.empty()) throw SnapshotError("no snapshot of '" + ctx.nodeId + "' to restore from");
  // A node that kept no state restores nothing, whatever it was (savepoint_check.h: "no state").
  const bool stateless = std::all_of(old.begin(), old.end(), [](const OperatorSnapshot& s) { return s.stateBytes() == 0; });
  if (stateless && old.front().type != ctx.type) return;
  const int oldParallelism = old.front().parallelism;
  std::vector<std::string> states(static_cast<std::size_t>(oldParallelism));
  std::vector<bool> seen(static_cast<std::size_t>(oldParallelism), false);
  for (const OperatorSnapshot& s : old) {
    const std::string where = "snapshot of '" + s.nodeId + "' subtask " + std::to_string(s.subtask);
    if (s.nodeId != ctx.nodeId) throw SnapshotError(where + " restored into '" + ctx.nodeId + "'");
    if (s.type != ctx.type)
      throw SnapshotError(where + ": it was a " + s.type + ", the job now has a " + ctx.type);
    if (s.parallelism != oldParallelism || seen[static_cast<std::size_t>(s.subtask)])
      throw SnapshotError(where + ": the snapshots of this node disagree on its parallelism");
    if (s.maxParallelism != ctx.maxParallelism)
      throw SnapshotError(where + ": max parallelism " + std::to_string(s.maxParallelism) + ", the job now has " +
                          std::to_string(ctx.maxParallelism) + " (key groups cannot be remapped)");
    seen[static_cast<std::size_t>(s.subtask)] = true;
    states[static_cast<std::size_t>(s.subtask)] = s.operatorState;
    bool anyKeyed = false;
    for (const auto& [group, bytes] : s.keyGroups) {
      if (!ctx.keyGroups.contains(group)) continue;
      KeyedStateBackend* backend = ctx.keyedStateIfAny();
      if (!backend) throw SnapshotError(where + " has keyed state, but '" + ctx.nodeId + "' keeps none now");
      ByteReader r(bytes, where + ", key group " + std::to_string(group));
      backend->restoreGroup(group, r);
      if (!r.atEnd()) r.fail(std::to_string(r.remaining()) + " bytes left over");
      anyKeyed = true;
    }
    (void)anyKeyed;
  }
  if (std::find(seen.begin(), seen.end(), false) != seen.end())
    throw SnapshotError("the snapshot of '" + ctx.nodeId + "' lacks some of its " + std::to_string(oldParallelism) +
                        " subtasks");
  op.restoreState(states);
}

}  // namespace weir

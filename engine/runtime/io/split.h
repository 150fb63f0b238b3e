#pragma once
// Splits: the byte ranges of input files that file-source subtasks read.
//
// A split is [start, end) of one file. Its reader reads every record that STARTS in that
// range: a split that starts at s > 0 begins at the first record starting at or after s
// (just after the first '\n' at a position >= s-1), and the last record it reads may run
// past `end`. So consecutive splits of a file read each record exactly once.
//
// Limitation: the split rule looks for a newline, so a CSV split boundary that falls inside a
// quoted field holding a newline would start mid-record. Files are therefore cut into byte
// splits only when they are larger than SplitOptions::minSplitBytes (32 MiB by default);
// smaller files are one split each. JSON Lines have no raw newlines inside records, so their
// splits are always exact.
//
// Assignment: splits are numbered in order (files sorted by name, then by offset), and split
// i is read by subtask i % parallelism. The plan depends only on the file names, their sizes
// and the parallelism, so every subtask computes the same plan on its own.

#include <cstdint>
#include <string>
#include <vector>

namespace weir {

struct FileSplit {
  std::string path;
  std::int64_t start = 0;   // first byte of the range
  std::int64_t end = 0;     // one past the last byte (the file's size for its last split)
  int index = 0;            // position in the whole plan (split i -> subtask i % p)
  int subtask = 0;          // the subtask that reads it
  bool operator==(const FileSplit&) const = default;
};

struct SplitOptions {
  /// Files up to this size are one split each (see the limitation above).
  std::int64_t minSplitBytes = std::int64_t{32} << 20;
  /// No split is larger than this (a file is cut into at least size / maxSplitBytes splits).
  std::int64_t maxSplitBytes = std::int64_t{256} << 20;
  /// Always one split per file, whatever its size (tailing files; quoted newlines).
  bool wholeFiles = false;
};

/// The files `pattern` names: a path that exists as written (a file, or a folder meaning
/// every regular, non-hidden file directly inside it), else a glob(3) pattern. Sorted by
/// name (bytewise). Throws JobError when nothing matches or a match cannot be read.
std::vector<std::string> expandFiles(const std::string& pattern);

/// Expands `pattern` and cuts each file into splits: a file larger than minSplitBytes
/// becomes `parallelism` equal pieces, adjusted so that no piece is smaller than
/// minSplitBytes or larger than maxSplitBytes. Returns every split of the plan, in order,
/// with `subtask` = index % parallelism. Throws JobError (no file, unreadable file).
std::vector<FileSplit> splitFiles(const std::string& pattern, int parallelism,
                                  const SplitOptions& options = {});

/// The splits of `plan` that `subtask` reads, in plan order.
std::vector<FileSplit> splitsOfSubtask(const std::vector<FileSplit>& plan, int subtask);

}  // namespace weir

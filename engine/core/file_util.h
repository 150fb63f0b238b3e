#pragma once
// Small file helpers shared by the CLI and the daemons. Standard library only.

#include <filesystem>
#include <string_view>

namespace weir {

/// Replaces `target` with `content` so that a reader sees the old file or the whole new
/// one, never half of it: writes a temporary beside the target (same folder, so the rename
/// stays on one file system), closes it and renames it over the target. The temporary's
/// name is unique to the call ("<target>.tmp-<pid>-<n>"), so concurrent writers of one
/// target never share a temporary; the last rename wins. Not synced to disk (no fsync):
/// atomic for readers, not durable across a power loss.
/// Throws std::runtime_error on failure ("cannot write <temporary>", "cannot store
/// <target>: <reason>"), after removing the temporary.
void writeFileAtomically(const std::filesystem::path& target, std::string_view content);

/// Creates `path` afresh for writing (an output file: a sink's FILE.inprogress, a dead-letter
/// file) and returns its descriptor (O_WRONLY | O_CLOEXEC, mode 0644), or -1 with `error`
/// saying why. A regular file already there (a stale output of an earlier run) is removed
/// first; the new file is then created exclusively without following a link (O_CREAT |
/// O_EXCL | O_NOFOLLOW). A symbolic link (or anything but a regular file) at `path` is
/// refused, and what it points to is never touched: "<path>: is a symbolic link; refusing
/// to write through it". A character device (/dev/null) is opened as it is.
int createOutputFile(const std::filesystem::path& path, std::string& error);

}  // namespace weir

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

}  // namespace weir

#include "runtime/io/split.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "runtime/operator.h"

namespace weir {
namespace {

bool isRegularFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::int64_t fileSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw JobError(path + ": cannot read file: " + std::strerror(errno));
  return static_cast<std::int64_t>(st.st_size);
}

}  // namespace

std::vector<std::string> expandFiles(const std::string& pattern) {
  std::vector<std::string> files;
  std::error_code ec;
  const std::filesystem::path p(pattern);
  if (std::filesystem::is_directory(p, ec)) {
    for (const auto& entry : std::filesystem::directory_iterator(p, ec)) {
      const std::string name = entry.path().filename().string();
      if (!name.empty() && name[0] != '.' && entry.is_regular_file(ec))
        files.push_back(entry.path().string());
    }
    if (ec) throw JobError(pattern + ": cannot list folder: " + ec.message());
    if (files.empty()) throw JobError(pattern + ": folder holds no file to read");
  } else if (std::filesystem::exists(p, ec)) {
    if (!isRegularFile(pattern)) throw JobError(pattern + ": not a regular file");
    files.push_back(pattern);
  } else {
    glob_t g{};
    const int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
    if (rc == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i)
        if (isRegularFile(g.gl_pathv[i])) files.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
    if (rc == GLOB_NOSPACE || rc == GLOB_ABORTED)
      throw JobError(pattern + ": cannot expand the pattern (read error)");
    if (files.empty()) {
      const bool isPattern = pattern.find_first_of("*?[") != std::string::npos;
      throw JobError(isPattern ? pattern + ": no file matches the pattern"
                               : pattern + ": file not found");
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<FileSplit> splitFiles(const std::string& pattern, int parallelism,
                                  const SplitOptions& options) {
  const int p = std::max(1, parallelism);
  std::vector<FileSplit> plan;
  for (const std::string& file : expandFiles(pattern)) {
    const std::int64_t size = fileSize(file);
    std::int64_t pieces = 1;
    if (!options.wholeFiles && size > options.minSplitBytes && options.minSplitBytes > 0) {
      const std::int64_t most = std::max<std::int64_t>(1, size / options.minSplitBytes);
      const std::int64_t least =
          options.maxSplitBytes > 0 ? (size + options.maxSplitBytes - 1) / options.maxSplitBytes
                                    : 1;
      pieces = std::clamp<std::int64_t>(p, std::min(least, most), most);
      pieces = std::max(pieces, least);
    }
    for (std::int64_t k = 0; k < pieces; ++k) {
      FileSplit s;
      s.path = file;
      s.start = size * k / pieces;
      s.end = size * (k + 1) / pieces;
      s.index = static_cast<int>(plan.size());
      s.subtask = s.index % p;
      plan.push_back(std::move(s));
    }
  }
  return plan;
}

std::vector<FileSplit> splitsOfSubtask(const std::vector<FileSplit>& plan, int subtask) {
  std::vector<FileSplit> mine;
  for (const FileSplit& s : plan)
    if (s.subtask == subtask) mine.push_back(s);
  return mine;
}

}  // namespace weir

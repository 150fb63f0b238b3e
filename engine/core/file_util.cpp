#include "core/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <atomic>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace weir {

void writeFileAtomically(const std::filesystem::path& target, std::string_view content) {
  static std::atomic<unsigned long> calls{0};
  const std::filesystem::path tmp =
      target.string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(calls++);
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error("cannot write " + tmp.string());
    }
  }
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error("cannot store " + target.string() + ": " + why);
  }
}

int createOutputFile(const std::filesystem::path& path, std::string& error) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      error = path.string() + ": is a symbolic link; refusing to write through it";
      return -1;
    }
    if (S_ISCHR(st.st_mode)) {  // /dev/null: written as it is, nothing to create
      const int fd = ::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) error = path.string() + ": cannot open: " + std::strerror(errno);
      return fd;
    }
    if (!S_ISREG(st.st_mode)) {
      error = path.string() + ": exists and is not a regular file";
      return -1;
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      error = path.string() + ": cannot remove the stale file: " + std::strerror(errno);
      return -1;
    }
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    // EEXIST: something was created there meanwhile (a link planted in the race).
    error = path.string() + ": cannot create: " + std::strerror(errno);
    return -1;
  }
  return fd;
}

}  // namespace weir

#pragma once
// Whole-file text helpers for tests (bytes as they are: no newline translation).

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

/// The file's bytes; empty when it cannot be read.
inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Creates (truncates) the file with `content`.
inline void writeFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

/// Appends `content` to the file (creating it).
inline void appendFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << content;
}

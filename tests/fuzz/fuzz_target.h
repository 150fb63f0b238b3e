#pragma once
// What every fuzz target defines (fuzz_net.cpp: frames and the codec; fuzz_inputs.cpp: job
// files, control messages, CSV and JSON Lines), for the libFuzzer entry point (clang) and
// the replay executable that ctest runs with any compiler.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace weir::fuzz {

/// The target's name, for messages.
extern const char* const kTargetName;
/// Runs one input: any crash, sanitizer report or abort is a bug.
void runOne(const std::uint8_t* data, std::size_t size);
/// Valid inputs to start mutating from.
std::vector<std::vector<std::uint8_t>> seeds();

}  // namespace weir::fuzz

// A fuzz body (fuzz_target.h) without libFuzzer, for any compiler (registered as a ctest):
//   fuzz_net_replay [--iterations N] [--seed S] [FILE|DIR]...   (fuzz_inputs_replay likewise)
//   fuzz_net_replay --write-seeds DIR     (writes the built-in seeds as a corpus)
// runs every given file (a corpus, e.g. crashes found by the libFuzzer target), then N
// inputs made by mutating the built-in seeds (flip, set, insert, erase, truncate and
// splice bytes) with a fixed seed, so a failure reproduces.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "fuzz_target.h"

namespace fs = std::filesystem;
using weir::fuzz::runOne;

namespace {

void runFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  runOne(bytes.data(), bytes.size());
}

std::vector<std::uint8_t> mutate(std::vector<std::uint8_t> b, std::mt19937_64& rng,
                                 const std::vector<std::vector<std::uint8_t>>& seeds) {
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < edits; ++i) {
    const std::size_t n = b.size();
    switch (rng() % 7) {
      case 0: if (n) b[rng() % n] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
      case 1: if (n) b[rng() % n] = static_cast<std::uint8_t>(rng()); break;
      case 2: b.insert(b.begin() + static_cast<std::ptrdiff_t>(n ? rng() % n : 0), static_cast<std::uint8_t>(rng())); break;
      case 3: if (n) b.erase(b.begin() + static_cast<std::ptrdiff_t>(rng() % n)); break;
      case 4: if (n) b.resize(rng() % n); break;
      case 5: {  // an interesting value at a random spot: 0, 0xff.., huge lengths
        if (n < 4) break;
        const std::uint32_t vals[] = {0, 1, 0xffffffffu, 0x7fffffffu, 0x01000000u, 65535, 4096};
        const std::uint32_t v = vals[rng() % std::size(vals)];
        std::memcpy(b.data() + rng() % (n - 3), &v, 4);
        break;
      }
      case 6: {  // splice a piece of another seed
        const auto& s = seeds[rng() % seeds.size()];
        if (s.empty() || !n) break;
        const std::size_t from = rng() % s.size(), len = 1 + rng() % (s.size() - from);
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng() % n), s.begin() + static_cast<std::ptrdiff_t>(from),
                 s.begin() + static_cast<std::ptrdiff_t>(from + len));
        break;
      }
    }
  }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 20000;
  unsigned long long seed = 1;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--iterations" && i + 1 < argc) iterations = std::atol(argv[++i]);
    else if (a == "--seed" && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--write-seeds" && i + 1 < argc) {  // seeds as files: a starting corpus
      const fs::path dir = argv[++i];
      fs::create_directories(dir);
      int n = 0;
      for (const auto& s : weir::fuzz::seeds()) {
        std::ofstream out(dir / ("seed-" + std::to_string(n++)), std::ios::binary);
        out.write(reinterpret_cast<const char*>(s.data()), static_cast<std::streamsize>(s.size()));
      }
      return 0;
    }
    else inputs.emplace_back(a);
  }
  long files = 0;
  for (const auto& p : inputs) {
    if (fs::is_directory(p)) {
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file()) { runFile(e.path()); ++files; }
    } else if (fs::exists(p)) {
      runFile(p);
      ++files;
    }
  }
  const auto seeds = weir::fuzz::seeds();
  for (const auto& s : seeds) runOne(s.data(), s.size());
  std::mt19937_64 rng(seed);
  for (long i = 0; i < iterations; ++i) {
    auto input = mutate(seeds[rng() % seeds.size()], rng, seeds);
    runOne(input.data(), input.size());
  }
  std::printf("%s_replay: %ld corpus files, %zu seeds, %ld mutated inputs, no failure\n", weir::fuzz::kTargetName, files,
              seeds.size(), iterations);
  return 0;
}

#include "runtime/io/nexmark.h"

#include "core/catalog.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace weir {
namespace {

// The virtual Nexmark stream: per epoch of 50 events, 1 person, 3 auctions, 46 bids.
constexpr std::int64_t kPersonProportion = 1;
constexpr std::int64_t kAuctionProportion = 3;
constexpr std::int64_t kBidProportion = 46;
constexpr std::int64_t kTotalProportion = kPersonProportion + kAuctionProportion + kBidProportion;
constexpr std::int64_t kFirstPersonId = 1000;
constexpr std::int64_t kFirstAuctionId = 1000;
constexpr std::int64_t kFirstCategoryId = 10;
constexpr std::int64_t kNumCategories = 5;
constexpr std::int64_t kPersonIdLead = 10;
constexpr std::int64_t kAuctionIdLead = 10;
constexpr std::int64_t kNumActivePeople = 1000;
constexpr std::int64_t kNumInFlightAuctions = 100;
constexpr std::int64_t kHotGroup = 100;           // hot ids are the first of each group of 100
constexpr std::uint64_t kHotAuctionRatio = 2;     // P(hot auction) = 1 - 1/2
constexpr std::uint64_t kHotBidderRatio = 4;      // P(hot bidder) = 1 - 1/4
constexpr std::uint64_t kHotSellerRatio = 4;      // P(hot seller) = 1 - 1/4
constexpr std::uint64_t kHotChannelRatio = 2;     // P(one of the four hot channels) = 1 - 1/2
constexpr std::int64_t kNumChannels = 10000;
constexpr std::int64_t kAvgBidBytes = 100;
constexpr std::int64_t kAvgAuctionBytes = 500;
constexpr std::int64_t kAvgPersonBytes = 200;

constexpr const char* kHotChannels[] = {"Google", "Facebook", "Baidu", "Apple"};
constexpr std::string_view kFirstNames[] = {"Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
                                            "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::string_view kLastNames[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                           "Walton", "Smith",  "Jones",   "Noris"};
constexpr std::string_view kCities[] = {"Phoenix", "Los Angeles", "San Francisco", "Boise",
                                        "Portland", "Bend", "Redmond", "Seattle", "Kent",
                                        "Cheyenne"};
constexpr std::string_view kStates[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
// Letters for random text: 5 bits per character; a space now and then.
constexpr char kLetters[33] = "abcdefghijklmnopqrstuvwxyz etaoi";

/// A splitmix64 stream.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    state += 0x9E3779B97F4A7C15ULL;
    return mix64(state);
  }
  /// Uniform in [0, n), n > 0 (multiply-shift; the bias is negligible for these n).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  std::int64_t below(std::int64_t n) { return static_cast<std::int64_t>(below(static_cast<std::uint64_t>(n))); }
  /// Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

Rng eventRng(std::uint64_t seed, NexmarkTable table, std::int64_t i) {
  const std::uint64_t salt = 0xA24BAED4963EE407ULL * (static_cast<std::uint64_t>(table) + 1);
  return Rng{mix64(mix64(seed ^ salt) + static_cast<std::uint64_t>(i) * 0xD1B54A32D192ED03ULL)};
}

// Global event numbers of the i-th auction / bid in the virtual stream (person i is event
// 50 i; nothing about a person depends on it).
std::int64_t auctionEvent(std::int64_t i) {
  return (i / kAuctionProportion) * kTotalProportion + kPersonProportion + i % kAuctionProportion;
}
std::int64_t bidEvent(std::int64_t i) {
  return (i / kBidProportion) * kTotalProportion + kPersonProportion + kAuctionProportion +
         i % kBidProportion;
}

std::int64_t lastBase0PersonId(std::int64_t event) {
  const std::int64_t epoch = event / kTotalProportion;
  std::int64_t offset = event % kTotalProportion;
  if (offset >= kPersonProportion) offset = kPersonProportion - 1;
  return epoch * kPersonProportion + offset;
}

std::int64_t lastBase0AuctionId(std::int64_t event) {
  std::int64_t epoch = event / kTotalProportion;
  std::int64_t offset = event % kTotalProportion;
  if (offset < kPersonProportion) {
    --epoch;
    offset = kAuctionProportion - 1;
  } else if (offset >= kPersonProportion + kAuctionProportion) {
    offset = kAuctionProportion - 1;
  } else {
    offset -= kPersonProportion;
  }
  return std::max<std::int64_t>(0, epoch * kAuctionProportion + offset);
}

std::int64_t nextBase0PersonId(std::int64_t event, Rng& rng) {
  const std::int64_t numPeople = lastBase0PersonId(event) + 1;
  const std::int64_t active = std::min(numPeople, kNumActivePeople);
  return numPeople - active + rng.below(active + kPersonIdLead);
}

std::int64_t nextBase0AuctionId(std::int64_t event, Rng& rng) {
  const std::int64_t maxAuction = lastBase0AuctionId(event);
  const std::int64_t minAuction = std::max<std::int64_t>(maxAuction - kNumInFlightAuctions, 0);
  return minAuction + rng.below(maxAuction - minAuction + 1 + kAuctionIdLead);
}

/// Nexmark's price: 10^(6u) * 100 cents, rounded (1 .. 100,000,000; log-uniform).
std::int64_t nextPrice(Rng& rng) {
  return static_cast<std::int64_t>(std::llround(std::exp(rng.unit() * 6.0 * 2.302585092994046) * 100.0));
}

/// Writes n random characters to dst.
void fillText(char* dst, std::size_t n, Rng& rng) {
  while (n > 0) {
    std::uint64_t r = rng.next();
    const std::size_t k = n < 12 ? n : 12;
    for (std::size_t j = 0; j < k; ++j, r >>= 5) *dst++ = kLetters[r & 31];
    n -= k;
  }
}

/// Writes n random lowercase letters to dst, eight per 64-bit draw (SWAR: each byte's low 5
/// bits, 26..31 folded onto 0..5, plus 'a'). The padding text of every row: keep it fast.
void fillLetters(char* dst, std::size_t n, Rng& rng) {
  constexpr std::uint64_t kLow5 = 0x1F1F1F1F1F1F1F1FULL;
  constexpr std::uint64_t kBias = 0x6666666666666666ULL;  // 128 - 26 per byte
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  constexpr std::uint64_t kA = 0x6161616161616161ULL;
  while (n > 0) {
    const std::uint64_t x = rng.next() & kLow5;
    const std::uint64_t ge26 = ((x + kBias) & kHigh) >> 7;  // 1 in each byte >= 26
    std::uint64_t letters = x - ge26 * 26 + kA;
    if constexpr (std::endian::native == std::endian::big) letters = __builtin_bswap64(letters);
    const std::size_t k = n < 8 ? n : 8;
    std::memcpy(dst, &letters, k);  // the same bytes on every machine
    dst += k;
    n -= k;
  }
}

/// A string of 3 .. maxLength-1 characters (Nexmark's nextString). Returns its length.
std::size_t nextString(char* dst, std::size_t maxLength, Rng& rng) {
  const std::size_t len = 3 + rng.below(static_cast<std::uint64_t>(maxLength - 3));
  fillText(dst, len, rng);
  return len;
}

/// Length of the padding that brings a record to about `average` bytes (Nexmark's nextExtra).
std::size_t extraLength(std::int64_t currentSize, std::int64_t average, Rng& rng) {
  if (currentSize > average) return 0;
  const std::int64_t desired = average - currentSize;
  const std::int64_t delta = std::llround(static_cast<double>(desired) * 0.2);
  const std::int64_t minSize = desired - delta;
  return static_cast<std::size_t>(minSize + (delta > 0 ? rng.below(2 * delta) : 0));
}

void appendExtra(Column& col, std::int64_t currentSize, std::int64_t average, Rng& rng) {
  char buf[512];
  const std::size_t n = std::min(extraLength(currentSize, average, rng), sizeof buf);
  fillLetters(buf, n, rng);
  col.appendString(std::string_view(buf, n));
}

/// Channel names and their URLs: the four hot channels, then "channel-0" .. "channel-9999".
/// A channel's URL is a pure function of the channel.
struct Channels {
  std::vector<std::string> names;
  std::vector<std::string> urls;
  Channels() {
    names.reserve(4 + kNumChannels);
    urls.reserve(4 + kNumChannels);
    for (const char* hot : kHotChannels) {
      names.emplace_back(hot);
      std::string lower(hot);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      urls.push_back("https://www.nexmark.com/" + lower + "/item.htm?query=1");
    }
    for (std::int64_t n = 0; n < kNumChannels; ++n) {
      names.push_back("channel-" + std::to_string(n));
      Rng rng{mix64(0x6E65786D61726BULL + static_cast<std::uint64_t>(n))};
      std::string url = "https://www.nexmark.com/";
      for (int seg = 0; seg < 3; ++seg) {
        char part[5];
        fillText(part, 5, rng);
        for (char& c : part) if (c == ' ') c = '_';
        url.append(part, 5);
        url.push_back('/');
      }
      url += "item.htm?query=1";
      if (rng.below(std::uint64_t{10}) == 0) url += "&channel_id=" + std::to_string(n);
      urls.push_back(std::move(url));
    }
  }
};

const Channels& channels() {
  static const Channels c;
  return c;
}


}  // namespace

std::optional<NexmarkTable> parseNexmarkTable(std::string_view name) {
  if (name == "bid") return NexmarkTable::Bid;
  if (name == "auction") return NexmarkTable::Auction;
  if (name == "person") return NexmarkTable::Person;
  return std::nullopt;
}

std::string_view nexmarkTableName(NexmarkTable table) {
  switch (table) {
    case NexmarkTable::Bid: return "bid";
    case NexmarkTable::Auction: return "auction";
    case NexmarkTable::Person: return "person";
  }
  return "?";
}

SchemaPtr nexmarkSchema(NexmarkTable table) {
  // One definition of the columns: the catalog's, which validation also uses.
  return generatorSchema(nexmarkTableName(table));
}

NexmarkGenerator::NexmarkGenerator(NexmarkTable table, NexmarkConfig config)
    : table_(table), config_(config), schema_(nexmarkSchema(table)) {
  if (table_ == NexmarkTable::Bid) channels();  // build the channel table now, not mid-run
}

void NexmarkGenerator::generate(std::int64_t first, std::int64_t count, std::int64_t stride,
                                BatchBuilder& out) const {
  for (std::int64_t k = 0; k < count; ++k) {
    const std::int64_t i = first + k * stride;
    switch (table_) {
      case NexmarkTable::Bid: bid(i, out); break;
      case NexmarkTable::Auction: auction(i, out); break;
      case NexmarkTable::Person: person(i, out); break;
    }
  }
}

void NexmarkGenerator::bid(std::int64_t i, BatchBuilder& out) const {
  Rng rng = eventRng(config_.seed, NexmarkTable::Bid, i);
  const std::int64_t event = bidEvent(i);
  std::int64_t auction;
  if (rng.below(kHotAuctionRatio) > 0)
    auction = (lastBase0AuctionId(event) / kHotGroup) * kHotGroup;
  else
    auction = nextBase0AuctionId(event, rng);
  std::int64_t bidder;
  if (rng.below(kHotBidderRatio) > 0)
    bidder = (lastBase0PersonId(event) / kHotGroup) * kHotGroup + 1;
  else
    bidder = nextBase0PersonId(event, rng);
  const std::int64_t price = nextPrice(rng);
  const std::size_t channel = rng.below(kHotChannelRatio) > 0
                                  ? static_cast<std::size_t>(rng.below(std::uint64_t{4}))
                                  : 4 + static_cast<std::size_t>(rng.below(kNumChannels));
  const Channels& ch = channels();
  const std::int64_t t = dateTime(i);
  out.column(0).appendInt64(auction + kFirstAuctionId);
  out.column(1).appendInt64(bidder + kFirstPersonId);
  out.column(2).appendInt64(price);
  out.column(3).appendString(ch.names[channel]);
  out.column(4).appendString(ch.urls[channel]);
  out.column(5).appendInt64(t);
  appendExtra(out.column(6), 8 + 8 + 8 + 8, kAvgBidBytes, rng);
  out.endRow(t);
}

void NexmarkGenerator::auction(std::int64_t i, BatchBuilder& out) const {
  Rng rng = eventRng(config_.seed, NexmarkTable::Auction, i);
  const std::int64_t event = auctionEvent(i);
  std::int64_t seller;
  if (rng.below(kHotSellerRatio) > 0)
    seller = (lastBase0PersonId(event) / kHotGroup) * kHotGroup;
  else
    seller = nextBase0PersonId(event, rng);
  const std::int64_t category = kFirstCategoryId + rng.below(kNumCategories);
  const std::int64_t initialBid = nextPrice(rng);
  const std::int64_t reserve = initialBid + nextPrice(rng);
  const std::int64_t t = dateTime(i);
  // Auctions last 1 ms .. twice the time until the auction kNumInFlightAuctions ahead starts.
  const std::int64_t horizonMs = dateTime(i + kNumInFlightAuctions) - t;
  const std::int64_t expires = t + 1 + rng.below(std::max<std::int64_t>(horizonMs * 2, 1));
  char name[24];
  char desc[104];
  const std::size_t nameLen = nextString(name, 20, rng);
  const std::size_t descLen = nextString(desc, 100, rng);
  out.column(0).appendInt64(i + kFirstAuctionId);
  out.column(1).appendString(std::string_view(name, nameLen));
  out.column(2).appendString(std::string_view(desc, descLen));
  out.column(3).appendInt64(initialBid);
  out.column(4).appendInt64(reserve);
  out.column(5).appendInt64(t);
  out.column(6).appendInt64(expires);
  out.column(7).appendInt64(seller + kFirstPersonId);
  out.column(8).appendInt64(category);
  appendExtra(out.column(9), 8 + static_cast<std::int64_t>(nameLen + descLen) + 40,
              kAvgAuctionBytes, rng);
  out.endRow(t);
}

void NexmarkGenerator::person(std::int64_t i, BatchBuilder& out) const {
  Rng rng = eventRng(config_.seed, NexmarkTable::Person, i);
  const std::string_view first = kFirstNames[rng.below(std::size(kFirstNames))];
  const std::string_view last = kLastNames[rng.below(std::size(kLastNames))];
  char name[32];
  std::memcpy(name, first.data(), first.size());
  name[first.size()] = ' ';
  std::memcpy(name + first.size() + 1, last.data(), last.size());
  const std::size_t nameLen = first.size() + 1 + last.size();

  char email[32];
  std::size_t emailLen = nextString(email, 7, rng);
  email[emailLen++] = '@';
  emailLen += nextString(email + emailLen, 5, rng);
  std::memcpy(email + emailLen, ".com", 4);
  emailLen += 4;

  char card[19];
  for (int g = 0; g < 4; ++g) {
    unsigned v = static_cast<unsigned>(rng.below(std::uint64_t{10000}));
    char* p = card + g * 5;
    p[3] = static_cast<char>('0' + v % 10); v /= 10;
    p[2] = static_cast<char>('0' + v % 10); v /= 10;
    p[1] = static_cast<char>('0' + v % 10); v /= 10;
    p[0] = static_cast<char>('0' + v);
    if (g < 3) p[4] = ' ';
  }
  const std::string_view city = kCities[rng.below(std::size(kCities))];
  const std::string_view state = kStates[rng.below(std::size(kStates))];
  const std::int64_t t = dateTime(i);
  out.column(0).appendInt64(i + kFirstPersonId);
  out.column(1).appendString(std::string_view(name, nameLen));
  out.column(2).appendString(std::string_view(email, emailLen));
  out.column(3).appendString(std::string_view(card, sizeof card));
  out.column(4).appendString(city);
  out.column(5).appendString(state);
  out.column(6).appendInt64(t);
  appendExtra(out.column(7),
              8 + static_cast<std::int64_t>(nameLen + emailLen + sizeof card + city.size() +
                                            state.size()),
              kAvgPersonBytes, rng);
  out.endRow(t);
}

void generateBids(std::uint64_t seed, std::int64_t first, std::int64_t count, std::int64_t stride,
                  BatchBuilder& out) {
  NexmarkConfig config;
  config.seed = seed;
  NexmarkGenerator(NexmarkTable::Bid, config).generate(first, count, stride, out);
}

}  // namespace weir

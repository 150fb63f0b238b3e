#pragma once
// What an accept loop does when accept fails. Out of descriptors (EMFILE) the listening
// socket stays readable, so accepting again at once fails again at once: a loop that just
// continues spins a core and starves the connections it still has. AcceptBackoff waits
// between failed accepts (10 ms, doubling up to 1 s) and logs the first failure of a run
// and then one line per 10 s with how many failed meanwhile (docs/security.md).
//
// One per accept loop, on that loop's io thread. Includes Asio: daemon .cpp files only.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>

namespace weir::net {

class AcceptBackoff {
 public:
  using Clock = std::chrono::steady_clock;

  /// After a failed accept: logs when due (through `log`), then waits before the next try.
  boost::asio::awaitable<void> failed(const boost::system::error_code& ec,
                                      const std::function<void(const std::string&)>& log) {
    ++failures_;
    const auto now = Clock::now();
    if (failures_ == 1 || now - lastLog_ >= std::chrono::seconds(10)) {
      log("accept failed: " + ec.message() + " (" + std::to_string(failures_) +
          " in a row; retrying after " + std::to_string(delay().count()) + " ms)");
      lastLog_ = now;
    }
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, delay());
    boost::system::error_code ignored;
    co_await t.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
  }
  /// After an accept that worked: the next failure starts a new run.
  void succeeded() { failures_ = 0; }
  /// The wait after the current failure: 10 ms doubling per failure in a row, at most 1 s.
  std::chrono::milliseconds delay() const {
    return std::chrono::milliseconds(std::min<long long>(1000, 10LL << std::min(failures_ - 1, 7)));
  }

 private:
  int failures_ = 0;
  Clock::time_point lastLog_{};
};

}  // namespace weir::net

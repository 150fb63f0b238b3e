#pragma once
// Mailbox: how other threads ask a subtask to do something on its own thread (Flink's
// mailbox model). Checkpoint triggers (for sources), checkpoint completions and aborts are
// posted here by the deployment layer and run by the subtask between two elements, never
// during one, so operators stay single-threaded.
//
// A post wakes the subtask: a subtask waiting on its InputGate is interrupted
// (InputGate::interrupt), a source polls its mailbox after every emitNext, a finished
// subtask waiting for its last checkpoint waits on the mailbox itself.
//
// Threading: post() from any thread; drain() and wait() from the subtask's thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

namespace weir {

class Mailbox {
 public:
  using Mail = std::function<void()>;

  /// Called after every post, outside the lock (the subtask sets it to interrupt its gate).
  void setWakeup(std::function<void()> wakeup) {
    std::lock_guard lock(mu_);
    wakeup_ = std::move(wakeup);
  }

  void post(Mail mail) {
    std::function<void()> wakeup;
    {
      std::lock_guard lock(mu_);
      mails_.push_back(std::move(mail));
      pending_.store(true, std::memory_order_release);
      wakeup = wakeup_;
    }
    cv_.notify_all();
    if (wakeup) wakeup();
  }

  /// Runs every mail posted so far, in order; mails they post run in the same call.
  /// Returns how many ran.
  int drain() {
    int n = 0;
    for (;;) {
      Mail mail;
      {
        std::lock_guard lock(mu_);
        if (mails_.empty()) {
          pending_.store(false, std::memory_order_relaxed);
          return n;
        }
        mail = std::move(mails_.front());
        mails_.pop_front();
      }
      mail();
      ++n;
    }
  }

  /// True when mail may be waiting: one relaxed load, for the per-element check.
  bool hasMail() const { return pending_.load(std::memory_order_acquire); }

  /// Waits up to `timeout` for mail (does not run it).
  void wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !mails_.empty(); });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Mail> mails_;
  std::function<void()> wakeup_;
  std::atomic<bool> pending_{false};
};

}  // namespace weir

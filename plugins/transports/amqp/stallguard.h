// SPDX-License-Identifier: MIT
// A write that a broker stops taking must not block the relayer's thread for ever. rabbitmq-c writes a
// publish with no time limit (it polls its non-blocking socket with an infinite deadline), so a node that
// freezes (SIGSTOP, a hung VM) while more than the socket buffers hold is being written to it would hold the
// relayer, its stop() included, until the node goes on. Around each write the publisher arms this guard; its
// thread watches how many bytes the broker has acknowledged (TCP_INFO), and when none has moved for the
// timeout it shuts the socket down, which wakes rabbitmq-c's poll and fails the write. The guard never touches
// a socket it is not armed on, so it cannot shut one that was closed and whose number was reused.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

namespace outbox {

class StallGuard
{
public:
    explicit StallGuard(int timeoutMs);
    ~StallGuard();
    StallGuard(const StallGuard &) = delete;
    StallGuard &operator=(const StallGuard &) = delete;

    // Watches `fd` until disarm(); the caller writes meanwhile.
    void arm(int fd);
    // Stops watching; true when the guard shut the socket down while armed (the write failed because of it).
    bool disarm();

    int timeoutMs() const { return m_timeoutMs; }

private:
    void run();

    const int m_timeoutMs;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    int m_fd = -1;
    bool m_fired = false;
    bool m_stopping = false;
    std::thread m_thread; // started at the first arm()
};

} // namespace outbox

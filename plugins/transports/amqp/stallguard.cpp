// SPDX-License-Identifier: MIT
#include "stallguard.h"

#include <chrono>

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace outbox {

namespace {

// The bytes the peer has acknowledged on a TCP socket; -1 when the kernel does not say (not TCP).
long long acknowledgedBytes(int fd)
{
    tcp_info info{};
    socklen_t size = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0
        || size < offsetof(tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked)
        return -1;
    return static_cast<long long>(info.tcpi_bytes_acked);
}

} // namespace

StallGuard::StallGuard(int timeoutMs) : m_timeoutMs(timeoutMs) { }

StallGuard::~StallGuard()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_changed.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

void StallGuard::arm(int fd)
{
    {
        std::lock_guard lock(m_mutex);
        m_fd = fd;
        m_fired = false;
        if (!m_thread.joinable())
            m_thread = std::thread([this] { run(); });
    }
    m_changed.notify_all();
}

bool StallGuard::disarm()
{
    std::lock_guard lock(m_mutex);
    m_fd = -1;
    return m_fired;
}

void StallGuard::run()
{
    using Clock = std::chrono::steady_clock;
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        if (m_fd < 0) {
            m_changed.wait(lock, [this] { return m_stopping || m_fd >= 0; });
            continue;
        }
        // Armed: look every 100 ms whether the broker took anything since the last change.
        const int fd = m_fd;
        long long seen = acknowledgedBytes(fd);
        Clock::time_point moved = Clock::now();
        while (!m_stopping && m_fd == fd && !m_fired) {
            m_changed.wait_for(lock, std::chrono::milliseconds(100));
            if (m_stopping || m_fd != fd)
                break;
            const long long now = acknowledgedBytes(fd);
            if (now != seen) {
                seen = now;
                moved = Clock::now();
            } else if (Clock::now() - moved >= std::chrono::milliseconds(m_timeoutMs)) {
                // Under the lock: the writer cannot have disarmed and closed the socket meanwhile.
                ::shutdown(fd, SHUT_RDWR);
                m_fired = true;
            }
        }
        // Fired or re-armed on another socket: wait for the next arm (or the new socket).
        if (m_fired)
            m_changed.wait(lock, [this, fd] { return m_stopping || m_fd != fd || !m_fired; });
    }
}

} // namespace outbox

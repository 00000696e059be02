// SPDX-License-Identifier: MIT
// The pace of a cleanup beside relayers and applications (see CleanupPacer in storagedetail.h).
#include "storagedetail.h"

#include "dialect.h"

#include <QThread>

namespace outbox {

namespace {
constexpr qint64 kCleanupChunkMs = 10;
constexpr qint64 kCleanupGapMs = 2;
constexpr qint64 kCleanupSharedMs = 2000;
constexpr int kCleanupShare = 10; // shared: 1 part deleting, kCleanupShare - 1 parts resting
} // namespace

detail::CleanupPacer::CleanupPacer(const Dialect &dialect, int batchSize, std::function<bool()> relayerAlive)
    : m_dialect(dialect),
      m_batchSize(qMax(1, batchSize)),
      m_relayerAlive(std::move(relayerAlive)),
      m_rows(qMin(m_batchSize, 100)),
      m_lastShared(-kCleanupSharedMs),
      m_lastAsked(-kCleanupSharedMs)
{
    m_clock.start();
}

void detail::CleanupPacer::begin()
{
    if (m_relayerAlive && m_clock.elapsed() - m_lastAsked >= kCleanupSharedMs / 2) {
        m_lastAsked = m_clock.elapsed();
        if (m_relayerAlive())
            m_lastShared = m_clock.elapsed();
    }
    m_waitsBefore = m_dialect.lockWaits();
}

void detail::CleanupPacer::rest(int deleted, qint64 heldUs)
{
    heldUs = qMax<qint64>(1, heldUs);
    if (m_dialect.lockWaits() != m_waitsBefore)
        m_lastShared = m_clock.elapsed();
    m_rows = int(qBound<qint64>(
        qMin(10, m_batchSize), qint64(qMax(1, deleted)) * kCleanupChunkMs * 1000 / heldUs, qint64(m_batchSize)));
    const bool shared = m_clock.elapsed() - m_lastShared < kCleanupSharedMs;
    QThread::usleep(shared ? heldUs * (kCleanupShare - 1) : kCleanupGapMs * 1000);
}

} // namespace outbox

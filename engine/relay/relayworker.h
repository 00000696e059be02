// SPDX-License-Identifier: MIT
#pragma once

#include "relayer.h"
#include "relaystore.h"
#include "transport.h"

#include <QElapsedTimer>
#include <QHash>
#include <QTimer>

#include <functional>
#include <memory>

namespace outbox {

// One written result as the relayer announces it (Relayer's per-event signals).
struct WrittenOutcome
{
    QString id;
    EventStatus status = EventStatus::Pending;
    int httpStatus = 0;
    QString error;
    QDateTime nextAttemptAt;
    qint64 durationMs = 0;
};

// Adds one batch's (or lane's) result to a running total: counts add up, the first error stays.
void accumulate(RelayOnceResult &total, const RelayOnceResult &r);

// The relayer's work, living on the relayer's thread: claim a batch, send it, write the results back, and
// decide when to look again. Private to the engine.
class RelayWorker : public QObject
{
    Q_OBJECT
public:
    using BatchCallback = std::function<void(const RelayOnceResult &)>;

    RelayWorker(const ConnectionSpec &spec, const RelayerConfig &config, const QString &owner,
        std::shared_ptr<QAtomicInt> eventListeners);
    ~RelayWorker() override;

    // Before open(): claim only these types (a route's lane; see Storage::setClaimTypes).
    void setClaimTypes(const QStringList &include, const QStringList &exclude)
    {
        m_claimInclude = include;
        m_claimExclude = exclude;
    }

    // All of these run on the worker's thread.
    Error open();
    void close();
    void startLoop();
    void stopLoop(const std::function<void()> &done);
    void requestBatch(const BatchCallback &done);
    void startDrain(const BatchCallback &done);
    void wake();
    Storage *storage() const { return m_storage.get(); }

Q_SIGNALS:
    // The results of one write-back, in one signal: one hand-over to the relayer's thread per write-back,
    // not one per event (which cost the relayer's thread about a sixth of its time in a batched drain).
    void outcomesWritten(const QList<outbox::WrittenOutcome> &outcomes);
    void batchFinished(int processed);
    void errorOccurred(const QString &message);
    void targetStateChanged(const outbox::TargetState &state);

private:
    // What the write-back needs of an event in hand: its id (announced with its outcome) and the attempts made
    // before this one (the backoff). Not the whole event: copying and freeing every attribute of each event
    // again here was a measurable share of the relayer's thread in batch mode.
    struct InHand
    {
        QString id;
        int attempts = 0;
    };
    // One claimed batch, from claim to its last result.
    struct Batch
    {
        QHash<qint64, InHand> events; // in hand: claimed, and no result written or kept for writing yet
        int processed = 0; // results written
        Error error; // the first write-back error
        qint64 statementsAtStart = 0;
        QList<BatchCallback> callbacks; // relayOnce() callers this batch answers
        bool probe = false; // claimed while the target was unavailable: one event, to see whether it is back
    };

    bool isBusy() const { return !m_active.isEmpty(); }
    void startBatch();
    void onSenderLow();
    // Outcomes as they arrive: written at once (never held for the rest of the batch); `last` ends the batch.
    void onOutcomes(const std::shared_ptr<Batch> &batch, const QList<Transport::Outcome> &outcomes, bool last);
    // Writes results of the batch and gives back the events never sent; results that cannot be written now
    // are kept for later (m_unwritten). Those written are announced and counted.
    void writeResults(Batch &batch, QList<detail::DeliveryRecord> records, const QList<qint64> &released);
    void announce(const QList<detail::DeliveryRecord> &records, const QHash<qint64, QString> &ids);
    void finishBatch(const std::shared_ptr<Batch> &batch, const Error &error);
    void scheduleNext(int processed, const Error &error);
    void checkForChanges();
    Error writeUnwritten();
    bool checkFile();
    void flushUnwrittenBeforeStop();
    static constexpr int kStopWriteWaitMs = 10000;
    static constexpr int kHealthCheckMs = 500; // renewal due? anyone gone?
    static constexpr qint64 kGoneGraceMs = 2500; // PostgreSQL: a lock free this long is a session gone
    static constexpr qint64 kRestartGraceMs = 10000; // PostgreSQL: no take-over this soon after a server start
    void listenForNotifications();
    // Crash recovery: registered while relaying; every round renews the leases in hand (every third of the
    // lease) and takes over relayers found gone.
    void ensureRegistered();
    void unregister();
    void releaseLeases();
    void healthRound();
    QList<qint64> sequencesInHand() const;
    QTimer *m_healthTimer = nullptr;
    bool m_registered = false;
    QElapsedTimer m_sinceRenewal;
    QHash<QString, qint64> m_goneSinceMs; // PostgreSQL: relayers whose lock was seen free, since when
    bool handleConnectionLoss(const Error &error);
    void tryReconnect();
    detail::DeliveryRecord recordFor(
        qint64 sequence, int attempts, const DeliveryResult &result, const QDateTime &now) const;

    // The circuit breaker of this lane's target. Outcomes that say the target is down (refused, connect
    // timeout, TLS failure, 502/503/504, 429, a run of kTimeoutRun timeouts) open it: queued requests go back,
    // the events are not charged, and instead of claiming batches the lane sends one event at a growing
    // interval (1 s doubling to 1 min, never sooner than Retry-After). The first answer closes it.
    struct Breaker
    {
        bool open = false;
        TargetState state;
        qint64 probeDelayMs = 0;
        int timeoutRun = 0; // timeouts in a row, with no answer between
    };
    static constexpr int kTimeoutRun = 3;
    static constexpr qint64 kFirstProbeMs = 1000;
    static constexpr qint64 kLongestProbeMs = 60000;
    Breaker m_breaker;
    QTimer *m_probeTimer = nullptr;
    void openBreaker(const DeliveryResult &result, bool afterProbe);
    void closeBreaker();
    void publishTargetState();
    qint64 retryDelayMs(int attempt, qint64 retryAfterMs) const;

    ConnectionSpec m_spec;
    RelayerConfig m_config;
    QString m_owner;
    std::shared_ptr<QAtomicInt> m_eventListeners;
    std::unique_ptr<Storage> m_storage;
    detail::RelayStore *m_relay = nullptr; // m_storage's relayer side
    QStringList m_claimInclude, m_claimExclude;
    Transport *m_transport = nullptr;

    QTimer *m_pollTimer;
    QTimer *m_changeTimer;
    qint64 m_lastChangeCounter = -1;
    quint64 m_changeChecks = 0;
    qint64 m_idleIntervalMs = 0;
    bool m_looping = false;
    bool m_stopping = false;
    bool m_lastClaimWasFull = false;
    int m_processedSinceIdle = 0;
    bool m_wakePending = false;
    std::function<void()> m_stopDone;
    BatchCallback m_drainDone; // a drain in progress: called when nothing is due any more
    RelayOnceResult m_drained;
    void endDrain();

    // Results not yet written (a failed write-back, a lost connection), and when an outage began.
    QTimer *m_reconnectTimer;
    bool m_outage = false;
    QDateTime m_outageSince;
    int m_reconnectDelayMs = 0;
    QList<detail::DeliveryRecord> m_unwritten;
    QHash<qint64, QString> m_unwrittenIds; // their events' ids, to announce them once written

    QList<std::shared_ptr<Batch>> m_active; // batches claimed and not yet written back
    QList<BatchCallback> m_waiting; // callers of relayOnce() waiting for the next batch
};

} // namespace outbox

// SPDX-License-Identifier: MIT
#include "relayworker.h"

#include "sqlstorage.h"
#include "wakeevent.h"
#include "threadstate.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSqlDriver>
#include <QMutex>
#include <QSet>
#include <QThread>

#include <cmath>

Q_LOGGING_CATEGORY(lcRelay, "outbox.relay", QtCriticalMsg)

namespace outbox {

// Adds one batch's (or lane's) result to a running total: counts add up, the first error stays.
void accumulate(RelayOnceResult &total, const RelayOnceResult &r)
{
    total.processed += r.processed;
    total.statements += r.statements;
    if (r.error && !total.error)
        total.error = r.error;
}

RelayWorker::RelayWorker(const ConnectionSpec &spec, const RelayerConfig &config, const QString &owner,
    std::shared_ptr<QAtomicInt> eventListeners)
    : m_spec(spec),
      m_config(config),
      m_owner(owner),
      m_eventListeners(std::move(eventListeners)),
      m_pollTimer(new QTimer(this)),
      m_changeTimer(new QTimer(this)),
      m_reconnectTimer(new QTimer(this))
{
    m_healthTimer = new QTimer(this);
    m_healthTimer->setInterval(int(qMin<qint64>(kHealthCheckMs, m_config.renewalIntervalMs())));
    connect(m_healthTimer, &QTimer::timeout, this, &RelayWorker::healthRound);
    m_reconnectTimer->setSingleShot(true);
    connect(m_reconnectTimer, &QTimer::timeout, this, &RelayWorker::tryReconnect);
    m_pollTimer->setSingleShot(true);
    connect(m_pollTimer, &QTimer::timeout, this, [this] {
        if (!isBusy() && !m_breaker.open)
            startBatch();
    });
    m_probeTimer = new QTimer(this);
    m_probeTimer->setSingleShot(true);
    connect(m_probeTimer, &QTimer::timeout, this, [this] {
        if (!isBusy() && m_breaker.open && !m_outage)
            startBatch(); // the probe: one event
    });
    m_changeTimer->setInterval(qMax(1, m_config.changeCheckIntervalMs));
    connect(m_changeTimer, &QTimer::timeout, this, &RelayWorker::checkForChanges);
}

RelayWorker::~RelayWorker() = default;

Error RelayWorker::open()
{
    auto storage = Storage::open(m_spec);
    if (!storage.isOk())
        return storage.error();
    auto relay = detail::requireRelayStore(*storage.value());
    if (!relay.isOk())
        return relay.error();
    m_relay = relay.value();
    m_storage = std::move(storage.value());
    m_relay->setClaimTypes(m_claimInclude, m_claimExclude);
    m_transport = Transport::create(m_config, this);
    // One request per event: claim the next batch while half of this one still waits to start, so the claim is
    // done before the connections run dry.
    const int lowWater =
        m_config.contentMode == ContentMode::Batch ? 0 : qMax(m_config.concurrency, m_config.batchSize / 2);
    m_transport->setLowWaterHandler([this] { onSenderLow(); }, lowWater);
    if (m_config.wakeOnLocalCommit)
        connect(WakeEvent::instance(), &WakeEvent::raised, this, &RelayWorker::wake, Qt::QueuedConnection);
    listenForNotifications();
    return {};
}

void RelayWorker::listenForNotifications()
{
    if (!m_storage->has(Storage::Capability::Notify) || !m_config.wakeOnDatabaseChange)
        return;
    QSqlDriver *driver = m_storage->database().driver();
    const QString channel = detail::notificationChannel();
    if (!driver->subscribedToNotifications().contains(channel) && !driver->subscribeToNotification(channel)) {
        qCWarning(lcRelay) << "cannot LISTEN for new events; relying on polling";
        return;
    }
    connect(driver, &QSqlDriver::notification, this, &RelayWorker::wake, Qt::UniqueConnection);
}

void RelayWorker::close()
{
    if (m_storage) {
        flushUnwrittenBeforeStop();
        unregister();
    }
    m_pollTimer->stop();
    m_changeTimer->stop();
    m_reconnectTimer->stop();
    m_healthTimer->stop();
    m_probeTimer->stop();
    delete m_transport;
    m_transport = nullptr;
    m_storage.reset();
}

void RelayWorker::startLoop()
{
    m_looping = true;
    m_stopping = false;
    m_idleIntervalMs = m_config.pollIntervalMs;
    if (auto counter = m_relay->changeCounter(); counter.isOk())
        m_lastChangeCounter = *counter;
    if (m_storage->has(Storage::Capability::ChangeCounter) && m_config.wakeOnDatabaseChange)
        m_changeTimer->start();
    if (!isBusy() && !m_outage)
        m_pollTimer->start(0);
}

Error RelayWorker::writeUnwritten()
{
    if (m_unwritten.isEmpty())
        return {};
    QSet<qint64> written;
    if (Error e = m_relay->complete(m_owner, m_unwritten, &written))
        return e;
    if (written.size() < m_unwritten.size())
        Q_EMIT errorOccurred(QStringLiteral("%1 of %2 results not written: another relayer has taken over their leases")
                                 .arg(m_unwritten.size() - written.size())
                                 .arg(m_unwritten.size()));
    // Delivered late is delivered: counted and announced now, when the database says so.
    QList<detail::DeliveryRecord> done;
    for (const detail::DeliveryRecord &r : std::as_const(m_unwritten)) {
        if (written.contains(r.sequence))
            done.append(r);
    }
    announce(done, m_unwrittenIds);
    if (m_drainDone)
        m_drained.processed += int(done.size());
    m_unwritten.clear();
    m_unwrittenIds.clear();
    return {};
}

// On stop: results still unwritten get a bounded wait for the database; what cannot be written is said plainly
// (those events are delivered again once their leases expire: at least once, never lost).
void RelayWorker::flushUnwrittenBeforeStop()
{
    QElapsedTimer clock;
    clock.start();
    Error error;
    while (!m_unwritten.isEmpty()) {
        if (m_storage->has(Storage::Capability::ServerConnection) && !m_storage->ping())
            m_storage->reconnect();
        error = writeUnwritten();
        if (!error || clock.elapsed() > kStopWriteWaitMs)
            break;
        QThread::msleep(250);
    }
    if (m_unwritten.isEmpty())
        return;
    const QString line =
        QStringLiteral("%1 delivery results could not be written before stopping (%2); those events will be sent "
                       "again after their leases expire")
            .arg(m_unwritten.size())
            .arg(error.message().section(QLatin1Char('\n'), 0, 0));
    qCWarning(lcRelay).noquote() << line;
    Q_EMIT errorOccurred(line);
    if (m_drainDone && !m_drained.error)
        m_drained.error = Error(Error::Database, line);
    m_unwritten.clear();
    m_unwrittenIds.clear();
}

void RelayWorker::startDrain(const BatchCallback &done)
{
    m_drainDone = done;
    m_drained = {};
    startLoop();
}

void RelayWorker::endDrain()
{
    flushUnwrittenBeforeStop(); // a result that cannot be written makes the drain fail
    auto done = std::exchange(m_drainDone, nullptr);
    const RelayOnceResult result = std::exchange(m_drained, {});
    stopLoop([done, result] { done(result); });
}

void RelayWorker::stopLoop(const std::function<void()> &done)
{
    if (m_drainDone) {
        // stop() during a drain: the drain ends with what it did so far.
        auto drainDone = std::exchange(m_drainDone, nullptr);
        const RelayOnceResult result = std::exchange(m_drained, {});
        stopLoop([done, drainDone, result] {
            drainDone(result);
            done();
        });
        return;
    }
    m_looping = false;
    m_pollTimer->stop();
    m_changeTimer->stop();
    m_probeTimer->stop();
    if (!isBusy()) {
        releaseLeases();
        done();
        return;
    }
    // Let the requests in flight finish; give back what has not started.
    m_stopping = true;
    m_stopDone = done;
    if (m_transport)
        m_transport->cancelQueued();
}

void RelayWorker::requestBatch(const BatchCallback &done)
{
    m_waiting.append(done);
    if (!isBusy())
        startBatch();
}

void RelayWorker::wake()
{
    if (!m_looping || m_breaker.open) // new events wait for the target like the others; the probe decides
        return;
    m_idleIntervalMs = m_config.pollIntervalMs;
    if (isBusy())
        m_wakePending = true;
    else
        m_pollTimer->start(0);
}

// Stopping: results in hand are written, the leases still held are given back, and the relayer leaves the
// register (it is not running any more).
void RelayWorker::releaseLeases()
{
    flushUnwrittenBeforeStop();
    if (Error e = m_relay->releaseAll(m_owner))
        Q_EMIT errorOccurred(e.message());
    unregister();
}

QList<qint64> RelayWorker::sequencesInHand() const
{
    QList<qint64> sequences;
    for (const auto &batch : m_active)
        sequences += batch->events.keys();
    for (const detail::DeliveryRecord &r : m_unwritten)
        sequences.append(r.sequence);
    return sequences;
}

// While relaying continuously, the next batch is claimed when the sender is about to run out of requests
// to start, so the connections never sit idle between batches. The transport says how many batches may be in
// hand (two for HTTP).
void RelayWorker::onSenderLow()
{
    if (m_looping && !m_stopping && !m_outage && !m_breaker.open && m_lastClaimWasFull && !m_active.isEmpty()
        && m_active.size() < m_transport->batchesInHand() && m_waiting.isEmpty())
        startBatch();
}

void RelayWorker::startBatch()
{
    ensureRegistered();
    auto batch = std::make_shared<Batch>();
    batch->statementsAtStart = m_relay->statementCount();
    batch->probe = m_breaker.open;
    batch->callbacks = std::move(m_waiting);
    m_waiting.clear();
    m_wakePending = false;
    m_active.append(batch);

    // The target is unavailable and its next probe has not come: nothing is claimed (a relayOnce() caller is
    // answered with nothing processed).
    if (m_breaker.open && QDateTime::currentDateTimeUtc().msecsTo(m_breaker.state.nextProbeAt) > 50) {
        m_lastClaimWasFull = false;
        finishBatch(batch, Error());
        return;
    }
    if (!checkFile()) {
        m_lastClaimWasFull = false;
        finishBatch(batch, Error(Error::Database, QStringLiteral("the outbox file %1 is gone").arg(m_spec.database)));
        return;
    }
    // Results a failed write-back left in hand (a full disk, a locked or lost database) go first: their
    // events were delivered, and claiming more before they are written would only add to them.
    if (Error e = writeUnwritten()) {
        m_lastClaimWasFull = false;
        finishBatch(batch, e);
        return;
    }
    QElapsedTimer claimClock;
    claimClock.start();
    // While the target is unavailable, a batch is one event: the probe.
    auto claimed = m_relay->claim(m_owner, m_breaker.open ? 1 : m_config.batchSize, m_config.effectiveLeaseMs());
    // The lease began when the claim did: what remains of it bounds the requests (a relayer frozen in the middle
    // of a claim that takes several statements, as on MySQL, must not send what others may have taken since).
    const qint64 leaseLeftMs = qMax<qint64>(1, m_config.effectiveLeaseMs() - claimClock.elapsed());
    if (!claimed.isOk()) {
        m_lastClaimWasFull = false;
        finishBatch(batch, claimed.error());
        return;
    }
    m_lastClaimWasFull = !m_breaker.open && claimed->size() >= m_config.batchSize;
    qCDebug(lcRelay) << "claimed" << claimed->size() << "batches in hand" << m_active.size()
                     << (claimed->isEmpty() ? -1 : claimed->first().sequence);
    QList<OutboxEvent> toSend = std::move(*claimed);
    QList<detail::DeliveryRecord> invalid;
    batch->events.reserve(toSend.size());
    for (const OutboxEvent &e : std::as_const(toSend)) {
        batch->events.insert(e.sequence, InHand{e.id, e.attempts});
        const QString problem = cloudevents::validate(e, m_config.contentMode);
        if (!problem.isEmpty())
            invalid.append(recordFor(e.sequence, e.attempts,
                DeliveryResult::failed(QStringLiteral("not a valid CloudEvent: ") + problem),
                QDateTime::currentDateTimeUtc()));
    }
    if (!invalid.isEmpty()) {
        // (rare: events written by something other than this library)
        QSet<qint64> rejected;
        for (const detail::DeliveryRecord &r : std::as_const(invalid))
            rejected.insert(r.sequence);
        toSend.removeIf([&](const OutboxEvent &e) { return rejected.contains(e.sequence); });
        writeResults(*batch, invalid, {});
    }
    if (toSend.isEmpty()) {
        finishBatch(batch, batch->error);
        return;
    }
    m_transport->send(
        toSend,
        [this, batch](const QList<Transport::Outcome> &outcomes, bool last) { onOutcomes(batch, outcomes, last); },
        m_registered ? leaseLeftMs : 0);
}

void RelayWorker::onOutcomes(const std::shared_ptr<Batch> &batch, const QList<Transport::Outcome> &outcomes, bool last)
{
    // First what they say of the target. Refusals, 502/503/504, 429 and a run of timeouts say it is down,
    // unless an event got through in the same hand-over (then they count, as a 5xx while others succeed).
    // Any other answer (a 400 for a poison event, a 500) says it is up, and counts for its event.
    bool delivered = false, answered = false;
    const DeliveryResult *unavailable = nullptr;
    for (const Transport::Outcome &o : outcomes) {
        if (o.released)
            continue;
        if (o.result.cause == DeliveryResult::Cause::TargetUnavailable
            || (o.result.cause == DeliveryResult::Cause::Timeout && ++m_breaker.timeoutRun >= kTimeoutRun)) {
            unavailable = &o.result;
        } else if (o.result.httpStatus > 0 || o.result.outcome == DeliveryResult::Outcome::Sent) {
            answered = true; // (a connection cut on the way says nothing either way)
            delivered = delivered || o.result.outcome == DeliveryResult::Outcome::Sent;
            m_breaker.timeoutRun = 0;
        }
    }
    const bool holding = unavailable && !delivered;
    QList<detail::DeliveryRecord> records;
    QList<qint64> released;
    records.reserve(outcomes.size());
    // Outcomes handed over together are recorded together, at the time they came back.
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const Transport::Outcome &o : outcomes) {
        if (o.released) {
            released.append(o.sequence);
            continue;
        }
        const auto inHand = batch->events.constFind(o.sequence);
        detail::DeliveryRecord r =
            recordFor(o.sequence, inHand == batch->events.cend() ? 0 : inHand->attempts, o.result, now);
        const bool down = o.result.cause == DeliveryResult::Cause::TargetUnavailable
            || (o.result.cause == DeliveryResult::Cause::Timeout && m_breaker.timeoutRun >= kTimeoutRun);
        if (holding && down) {
            // Not the event's fault: in the history, not charged; due again when the target is back.
            r.counted = false;
            r.newStatus = EventStatus::Pending;
            r.outcome = Attempt::Outcome::Retry;
            r.nextAttemptAt = now.addMSecs(qBound<qint64>(0, o.result.retryAfterMs, 24LL * 3600 * 1000));
            r.error = o.result.error + QStringLiteral(" (target unavailable: not counted)");
        }
        records.append(r);
    }
    if (holding)
        openBreaker(*unavailable, batch->probe);
    else if (answered)
        closeBreaker();
    if (!records.isEmpty() || !released.isEmpty())
        writeResults(*batch, std::move(records), released);
    if (last)
        finishBatch(batch, batch->error);
}

qint64 RelayWorker::retryDelayMs(int attempt, qint64 retryAfterMs) const
{
    const double exponential = double(m_config.retryBackoffMs) * std::pow(2.0, qMax(0, attempt - 1));
    const qint64 capped = qint64(qMin(exponential, double(m_config.maxRetryBackoffMs)));
    // Jitter: between half and all of the delay, so events that failed together do not retry together.
    const qint64 own = capped / 2 + (capped > 1 ? qint64(QRandomGenerator::global()->bounded(capped / 2 + 1)) : 0);
    // Retry-After is honoured (parseRetryAfter clamps it to a day), but never sooner than our own backoff:
    // "Retry-After: 0" must not burn every retry within milliseconds.
    return qMax(own, qMin<qint64>(retryAfterMs, 24LL * 3600 * 1000));
}

detail::DeliveryRecord RelayWorker::recordFor(
    qint64 sequence, int attempts, const DeliveryResult &result, const QDateTime &now) const
{
    detail::DeliveryRecord r;
    r.sequence = sequence;
    r.attemptedAt = now;
    r.httpStatus = result.httpStatus;
    r.error = result.error;
    r.durationMs = result.durationMs;
    const int attempt = attempts + 1;
    switch (result.outcome) {
    case DeliveryResult::Outcome::Sent:
        r.newStatus = EventStatus::Sent;
        r.outcome = Attempt::Outcome::Sent;
        break;
    case DeliveryResult::Outcome::Failed:
        r.newStatus = EventStatus::Failed;
        r.outcome = Attempt::Outcome::Failed;
        break;
    case DeliveryResult::Outcome::Retry:
        if (attempt >= m_config.maxRetries) {
            r.newStatus = EventStatus::Failed;
            r.outcome = Attempt::Outcome::Failed;
            r.error = QStringLiteral("%1 (gave up after %2 attempts)").arg(result.error).arg(attempt);
        } else {
            r.newStatus = EventStatus::Pending;
            r.outcome = Attempt::Outcome::Retry;
            r.nextAttemptAt = r.attemptedAt.addMSecs(retryDelayMs(attempt, result.retryAfterMs));
        }
        break;
    }
    return r;
}

void RelayWorker::writeResults(Batch &batch, QList<detail::DeliveryRecord> records, const QList<qint64> &released)
{
    QHash<qint64, QString> ids;
    for (const detail::DeliveryRecord &r : std::as_const(records))
        ids.insert(r.sequence, batch.events.take(r.sequence).id);
    for (qint64 sequence : released)
        batch.events.remove(sequence);
    Error error;
    if (!records.isEmpty()) {
        QSet<qint64> written;
        // While the database is away, results wait for the reconnect instead of failing one by one.
        error = m_outage ? Error(Error::Database, QStringLiteral("the database connection is lost"))
                         : m_relay->complete(m_owner, records, &written);
        qCDebug(lcRelay) << "write-back of" << records.size() << "results, written" << written.size() << "released"
                         << released.size() << error.message();
        if (error) {
            m_unwritten += records; // written before the next claim, or after reconnecting
            m_unwrittenIds.insert(ids);
            if (!m_outage)
                handleConnectionLoss(error);
        } else {
            if (written.size() < records.size()) {
                // Leases that expired while this relayer could not renew them (a pause, a lost database) and
                // that another relayer has taken: their results are that relayer's to write, and not ours to
                // report.
                const QString line =
                    QStringLiteral("%1 of %2 results not written: another relayer has taken over their leases")
                        .arg(records.size() - written.size())
                        .arg(records.size());
                qCWarning(lcRelay).noquote() << line;
                Q_EMIT errorOccurred(line);
                records.removeIf([&](const detail::DeliveryRecord &r) { return !written.contains(r.sequence); });
            }
            batch.processed += int(records.size());
            announce(records, ids);
        }
    }
    if (!released.isEmpty() && !m_outage) {
        if (Error e = m_relay->release(m_owner, released); e && !error)
            error = e;
    }
    if (error && !batch.error)
        batch.error = error;
}

void RelayWorker::announce(const QList<detail::DeliveryRecord> &records, const QHash<qint64, QString> &ids)
{
    if (m_eventListeners->loadRelaxed() <= 0 || records.isEmpty())
        return;
    QList<WrittenOutcome> outcomes;
    outcomes.reserve(records.size());
    for (const detail::DeliveryRecord &r : records)
        outcomes.append({ids.value(r.sequence), r.newStatus, r.httpStatus, r.error, r.nextAttemptAt, r.durationMs});
    Q_EMIT outcomesWritten(outcomes);
}

void RelayWorker::finishBatch(const std::shared_ptr<Batch> &batch, const Error &error)
{
    m_active.removeOne(batch);
    qCDebug(lcRelay) << "batch finished; batches in hand" << m_active.size() << "unwritten" << m_unwritten.size()
                     << "outage" << m_outage << error.message();
    const int processed = batch->processed;
    const bool lost = error && (m_outage || handleConnectionLoss(error));
    if (error && !lost) {
        qCWarning(lcRelay).noquote() << error.message();
        Q_EMIT errorOccurred(error.message());
    }
    const RelayOnceResult result{processed, error, m_relay->statementCount() - batch->statementsAtStart};
    for (const BatchCallback &cb : std::as_const(batch->callbacks))
        cb(result);
    Q_EMIT batchFinished(processed);
    m_processedSinceIdle += processed;
    if (m_drainDone)
        accumulate(m_drained, result);
    if (isBusy()) {
        // The other batch in hand decides what comes next; if the sender ran low while two were in hand,
        // the next one can be claimed now.
        if (m_transport && m_transport->isLow())
            onSenderLow();
        return;
    }

    const int processedRound = m_processedSinceIdle;
    m_processedSinceIdle = 0;
    if (m_stopping) {
        m_stopping = false;
        releaseLeases();
        auto done = std::move(m_stopDone);
        m_stopDone = nullptr;
        if (done)
            done();
        return;
    }
    if (lost)
        return; // tryReconnect() resumes
    if (!m_waiting.isEmpty()) {
        m_pollTimer->start(0);
        return;
    }
    if (m_looping)
        scheduleNext(processedRound, error);
}

void RelayWorker::scheduleNext(int processed, const Error &error)
{
    if (m_breaker.open) {
        if (m_drainDone) {
            // A drain does not wait for a target that is down: it ends, its events not charged.
            if (!m_drained.error)
                m_drained.error = Error(Error::Network,
                    QStringLiteral("target %1 unavailable: %2").arg(m_breaker.state.target, m_breaker.state.why));
            endDrain();
            return;
        }
        m_pollTimer->stop();
        m_probeTimer->start(int(qBound<qint64>(
            0, QDateTime::currentDateTimeUtc().msecsTo(m_breaker.state.nextProbeAt), 24LL * 3600 * 1000)));
        return;
    }
    if (m_drainDone && (error || (processed == 0 && !m_wakePending))) {
        endDrain();
        return;
    }
    if (processed > 0 && !error) {
        m_idleIntervalMs = m_config.pollIntervalMs;
        m_pollTimer->start(0);
        return;
    }
    if (m_wakePending) {
        m_pollTimer->start(0);
        return;
    }
    qint64 wait = m_idleIntervalMs;
    m_idleIntervalMs = qMin<qint64>(m_idleIntervalMs * 2, m_config.maxIdleBackoffMs);
    // Don't sleep past the next retry that falls due.
    if (!error) {
        auto next = m_relay->nextDueAt();
        if (next.isOk() && next->isValid())
            wait = qBound<qint64>(0, QDateTime::currentDateTimeUtc().msecsTo(*next) + 1, wait);
    }
    if (auto counter = m_relay->changeCounter(); counter.isOk())
        m_lastChangeCounter = *counter;
    m_pollTimer->start(int(wait));
}

// ---------------------------------------------------------------------------------------------------------
// Relayer

} // namespace outbox

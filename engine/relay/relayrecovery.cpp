// SPDX-License-Identifier: MIT
// What keeps a lane relaying through the faults of a working day: a lost database connection (reconnect with
// backoff), a SQLite file replaced under it, the register of relayers and the health round (lease renewal,
// take-over of gone relayers), and the circuit breaker of an unavailable target. See relayworker.h.
#include "relayworker.h"

#include "sqlstorage.h"
#include "threadstate.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSqlDriver>

Q_DECLARE_LOGGING_CATEGORY(lcRelay)

namespace outbox {

// On a database server an error may mean the server went away. Then: one line to say so, reconnect with backoff,
// and keep the results of the batch in hand to write them once the server is back.
bool RelayWorker::handleConnectionLoss(const Error &error)
{
    if (!m_storage->has(Storage::Capability::ServerConnection) || m_storage->ping())
        return false;
    if (!m_outage) {
        m_outage = true;
        m_outageSince = QDateTime::currentDateTimeUtc();
        m_reconnectDelayMs = 100;
        const QString line = QStringLiteral("lost the connection to %1 (%2); reconnecting")
                                 .arg(m_spec.displayUrl(), error.message().section(QLatin1Char('\n'), 0, 0));
        qCWarning(lcRelay).noquote() << line;
        Q_EMIT errorOccurred(line);
    }
    m_pollTimer->stop();
    m_reconnectTimer->start(m_reconnectDelayMs);
    return true;
}

void RelayWorker::tryReconnect()
{
    if (m_storage->reconnect().isError() || !m_storage->ping()) {
        m_reconnectDelayMs = qMin(m_reconnectDelayMs * 2, 5000);
        m_reconnectTimer->start(m_reconnectDelayMs);
        return;
    }
    listenForNotifications();
    m_outage = false;
    if (m_registered) {
        // The lost session took its lock along: take one again, or others would soon count this relayer gone.
        m_registered = false;
        ensureRegistered();
    }
    const QString line =
        QStringLiteral("reconnected to %1 after %2 s")
            .arg(m_spec.displayUrl(),
                QString::number(m_outageSince.msecsTo(QDateTime::currentDateTimeUtc()) / 1000.0, 'f', 1));
    qCWarning(lcRelay).noquote() << line;
    Q_EMIT errorOccurred(line);
    // Results of the batches that were in flight when the server went away; rows whose lease has meanwhile
    // passed to another relayer are left alone by complete().
    // Anything else (a deadlock with a relayer claiming beside this one, a lock wait) keeps the results in hand and
    // the relayer going: the next batch writes them first, after the usual idle backoff.
    const Error e = writeUnwritten();
    if (e && handleConnectionLoss(e))
        return;
    if (e) {
        qCWarning(lcRelay).noquote() << e.message();
        Q_EMIT errorOccurred(e.message());
    }
    if (m_looping && !isBusy())
        m_pollTimer->start(e ? int(m_idleIntervalMs) : 0);
}

// SQLite: the file deleted or replaced under a running relayer (a restore, a mistaken rm) would leave it
// relaying from a file nobody writes to any more. It notices, says so, and opens the file now at the path;
// while there is none it claims nothing and reports an error on every poll.
bool RelayWorker::checkFile()
{
    if (!m_storage->isFileReplaced())
        return true;
    auto reopened = Storage::open(m_spec, Storage::OpenMode::MustExist);
    if (!reopened.isOk()) {
        const QString line =
            QStringLiteral("the outbox file %1 was deleted or replaced, and cannot be opened again: %2")
                .arg(m_spec.database, reopened.error().message());
        qCWarning(lcRelay).noquote() << line;
        Q_EMIT errorOccurred(line);
        return false;
    }
    const QString line = QStringLiteral("the outbox file %1 was deleted or replaced; relaying from the file now there")
                             .arg(m_spec.database);
    qCWarning(lcRelay).noquote() << line;
    Q_EMIT errorOccurred(line);
    m_unwritten.clear(); // their rows are not in this file
    m_unwrittenIds.clear();
    m_relay = detail::relayStoreOf(*reopened.value());
    if (!m_relay) { // a foreign outbox put in its place: opening as ours refuses one, so this cannot happen
        m_relay = detail::relayStoreOf(*m_storage);
        return false;
    }
    m_storage = std::move(reopened.value());
    m_relay->setClaimTypes(m_claimInclude, m_claimExclude);
    m_lastChangeCounter = -1;
    return true;
}

void RelayWorker::checkForChanges()
{
    if (isBusy() || !m_looping)
        return;
    // The file's identity, about once a second.
    if (++m_changeChecks % qMax(1, 1000 / qMax(1, m_config.changeCheckIntervalMs)) == 0
        && m_storage->isFileReplaced()) {
        wake();
        return;
    }
    auto counter = m_relay->changeCounter();
    if (!counter.isOk())
        return;
    if (*counter != m_lastChangeCounter) {
        m_lastChangeCounter = *counter;
        wake();
    }
}

void RelayWorker::ensureRegistered()
{
    if (m_registered || m_outage)
        return;
    if (Error e = m_relay->registerRelayer(m_owner, m_config.effectiveLeaseMs())) {
        // Relaying goes on without: this relayer's leases then only run out, as before version 5.
        qCWarning(lcRelay).noquote() << e.message();
        return;
    }
    m_registered = true;
    if (m_breaker.state.target.isEmpty())
        m_breaker.state.target = m_config.customSender ? QStringLiteral("the custom sender")
                                                       : m_config.targetUrl.toDisplayString(QUrl::RemovePassword);
    publishTargetState(); // where this relayer sends, for the console to compare
    m_sinceRenewal.start();
    m_healthTimer->start();
    healthRound(); // a relayer restarted after a crash takes over its predecessor's events before it claims
}

void RelayWorker::unregister()
{
    m_healthTimer->stop();
    m_goneSinceMs.clear();
    if (!m_registered)
        return;
    m_registered = false;
    if (Error e = m_relay->unregisterRelayer(m_owner))
        qCWarning(lcRelay).noquote() << e.message();
}

void RelayWorker::healthRound()
{
    if (m_outage || !m_storage)
        return;
    // Renewal: one statement for every event in hand, a third of the lease before it would run out.
    if (m_sinceRenewal.elapsed() >= m_config.renewalIntervalMs()) {
        m_sinceRenewal.restart();
        const QList<qint64> inHand = sequencesInHand();
        auto renewed = m_relay->renewLeases(m_owner, inHand, m_config.effectiveLeaseMs());
        qCDebug(lcRelay) << "renewed" << (renewed.isOk() ? *renewed : -1) << "of" << inHand.size() << "batches in hand"
                         << m_active.size() << "unwritten" << m_unwritten.size();
        if (!renewed.isOk()) {
            if (!handleConnectionLoss(renewed.error()))
                qCWarning(lcRelay).noquote() << renewed.error().message();
            return;
        }
        if (*renewed == inHand.size() && m_transport) {
            m_transport->leasesRenewed(m_config.effectiveLeaseMs());
        } else if (*renewed < inHand.size()) {
            // Some leases ran out (a pause longer than the lease) and may be another relayer's now: what has
            // not started is given back rather than sent twice; results are written only for rows still ours.
            const QString line =
                QStringLiteral("%1 of %2 leases in hand had passed on; not sending those not yet started")
                    .arg(inHand.size() - *renewed)
                    .arg(inHand.size());
            qCWarning(lcRelay).noquote() << line;
            Q_EMIT errorOccurred(line);
            if (m_transport)
                m_transport->cancelQueued();
        }
    }
    // Take-over: a relayer found gone has its leases released now instead of when they run out.
    auto list = m_storage->relayers(false);
    if (!list.isOk()) {
        if (!handleConnectionLoss(list.error()))
            qCWarning(lcRelay).noquote() << list.error().message();
        return;
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QSet<QString> seen;
    for (const RelayerInfo &r : std::as_const(*list)) {
        seen.insert(r.owner);
        if (r.owner == m_owner || r.state != RelayerInfo::State::Gone) {
            m_goneSinceMs.remove(r.owner);
            continue;
        }
        if (m_storage->has(Storage::Capability::SessionLocks)) {
            // A lock seen free may belong to a relayer that is reconnecting (its session killed, the server
            // restarted): it counts as gone only when it stays free, and not while the server has just started.
            const qint64 since = m_goneSinceMs.value(r.owner, now);
            m_goneSinceMs.insert(r.owner, since);
            if (now - since < kGoneGraceMs)
                continue;
            auto uptime = m_relay->serverUptimeMs();
            if (!uptime.isOk() || *uptime < kRestartGraceMs)
                continue;
        }
        auto released = m_relay->takeOver(r);
        if (!released.isOk()) {
            if (!handleConnectionLoss(released.error()))
                qCWarning(lcRelay).noquote() << released.error().message();
            return;
        }
        m_goneSinceMs.remove(r.owner);
        if (*released < 0)
            continue; // it came back
        const QString line = QStringLiteral("relayer %1 (pid %2 on %3) is gone; released the %4 events it held")
                                 .arg(r.owner)
                                 .arg(r.pid)
                                 .arg(r.host)
                                 .arg(*released);
        qCWarning(lcRelay).noquote() << line;
        Q_EMIT errorOccurred(line);
        if (*released > 0)
            wake();
    }
    for (auto it = m_goneSinceMs.begin(); it != m_goneSinceMs.end();)
        it = seen.contains(it.key()) ? std::next(it) : m_goneSinceMs.erase(it);
}

void RelayWorker::openBreaker(const DeliveryResult &result, bool afterProbe)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const bool opening = !m_breaker.open;
    m_breaker.open = true;
    // The interval grows with each failed probe, not with the other requests that were in flight.
    if (opening)
        m_breaker.probeDelayMs = kFirstProbeMs;
    else if (afterProbe)
        m_breaker.probeDelayMs = qMin(m_breaker.probeDelayMs * 2, kLongestProbeMs);
    TargetState &state = m_breaker.state;
    if (opening)
        state.unavailableSince = now;
    if (state.target.isEmpty())
        state.target = m_config.customSender ? QStringLiteral("the custom sender")
                                             : m_config.targetUrl.toDisplayString(QUrl::RemovePassword);
    state.why = result.error;
    state.nextProbeAt = now.addMSecs(qMax(m_breaker.probeDelayMs, qMin<qint64>(result.retryAfterMs, 86400000)));
    if (m_transport)
        m_transport->cancelQueued(); // what has not started goes back, unsent and uncharged
    if (opening) {
        const QString line = QStringLiteral("target %1 unavailable: %2; holding its events (attempts not counted), "
                                            "probing with one event from time to time")
                                 .arg(state.target, result.error);
        qCWarning(lcRelay).noquote() << line;
        Q_EMIT errorOccurred(line);
    }
    publishTargetState();
}

void RelayWorker::closeBreaker()
{
    m_breaker.timeoutRun = 0;
    if (!m_breaker.open)
        return;
    const QString line =
        QStringLiteral("target %1 available again after %2 s; relaying at full speed")
            .arg(m_breaker.state.target,
                QString::number(
                    m_breaker.state.unavailableSince.msecsTo(QDateTime::currentDateTimeUtc()) / 1000.0, 'f', 1));
    qCWarning(lcRelay).noquote() << line;
    Q_EMIT errorOccurred(line);
    m_breaker.open = false;
    m_breaker.probeDelayMs = 0;
    m_breaker.state.unavailableSince = QDateTime();
    m_breaker.state.nextProbeAt = QDateTime();
    m_breaker.state.why.clear();
    m_probeTimer->stop();
    m_idleIntervalMs = m_config.pollIntervalMs;
    publishTargetState();
}

void RelayWorker::publishTargetState()
{
    Q_EMIT targetStateChanged(m_breaker.state);
    // For stats, relayers and the console: in the register.
    if (m_registered && !m_outage) {
        if (Error e = m_relay->setTargetState(m_owner, m_breaker.state))
            qCWarning(lcRelay).noquote() << e.message();
    }
}

} // namespace outbox

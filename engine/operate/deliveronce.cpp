// SPDX-License-Identifier: MIT
#include "deliveronce.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QSysInfo>
#include <QUuid>

#include <memory>

namespace outbox {

QString deliverOnceOwner(const QString &who)
{
    return QStringLiteral("%1@%2:%3:%4")
        .arg(who, QSysInfo::machineHostName())
        .arg(QCoreApplication::applicationPid())
        .arg(QUuid::createUuid().toString(QUuid::Id128).left(8));
}

qint64 deliverOnceLeaseMs(const RelayerConfig &config)
{
    return 2 * qint64(config.requestTimeoutMs) + 60000;
}

QList<detail::DeliveryRecord> deliverOnceRecords(
    const QList<Transport::Outcome> &outcomes, const QDateTime &now, DeliverOnceTally &tally)
{
    QList<detail::DeliveryRecord> records;
    for (const Transport::Outcome &o : outcomes) {
        if (o.released) {
            ++tally.skipped; // never sent: the lease ran out first
            continue;
        }
        detail::DeliveryRecord r;
        r.sequence = o.sequence;
        r.attemptedAt = now;
        r.nextAttemptAt = now;
        r.httpStatus = o.result.httpStatus;
        r.durationMs = o.result.durationMs;
        if (o.result.outcome == DeliveryResult::Outcome::Sent) {
            r.newStatus = EventStatus::Sent;
            r.outcome = Attempt::Outcome::Sent;
            ++tally.arrived;
        } else {
            r.newStatus = EventStatus::Failed;
            r.outcome = Attempt::Outcome::Failed;
            r.error = o.result.error;
            ++tally.failedAgain;
            if (tally.firstError.isEmpty())
                tally.firstError = o.result.error;
        }
        records.append(r);
    }
    return records;
}

Result<DeliverOnceTally> deliverOnce(Storage &storage, const QList<qint64> &sequences, const RelayerConfig &config,
    const QString &owner, const QString &note)
{
    if (const QString problem = config.problem(); !problem.isEmpty())
        return Error(Error::InvalidArgument, problem);
    auto relay = detail::requireRelayStore(storage);
    if (!relay.isOk())
        return relay.error();
    DeliverOnceTally tally;
    auto taken = storage.takeFailed(owner, sequences, deliverOnceLeaseMs(config), note);
    if (!taken.isOk())
        return taken.error();
    tally.taken = int(taken->size());
    tally.skipped = int(sequences.size() - taken->size());
    if (taken->isEmpty())
        return tally;
    QList<Transport::Outcome> outcomes;
    QEventLoop loop;
    std::unique_ptr<Transport> transport(Transport::create(config, nullptr));
    bool done = false;
    transport->send(
        taken.value(),
        [&](const QList<Transport::Outcome> &some, bool last) {
            outcomes += some;
            if (last) {
                done = true;
                loop.quit();
            }
        },
        deliverOnceLeaseMs(config));
    if (!done)
        loop.exec();
    transport.reset();
    const QList<detail::DeliveryRecord> records = deliverOnceRecords(outcomes, QDateTime::currentDateTimeUtc(), tally);
    if (Error e = relay.value()->complete(owner, records))
        return Error(e.code(),
            QStringLiteral("sent, but the results could not be written (they stay failed): %1").arg(e.message()));
    return tally;
}

} // namespace outbox

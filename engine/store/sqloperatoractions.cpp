// SPDX-License-Identifier: MIT
// The operator's changes to our outbox (see sqlstorage.h): retry, retry matching, replay, delete, cleanup,
// notes and resolving, and taking failed events for a one-off delivery, each with its operator entry in the
// events' history in the same transaction.
#include "sqlstorage.h"
#include "operatorlog.h"
#include "storagedetail.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QSqlQuery>

#include <algorithm>

namespace outbox::detail {

namespace {

QString jsonList(const QStringList &values)
{
    return QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(values)).toJson(QJsonDocument::Compact));
}

QStringList unique(const QStringList &ids)
{
    QStringList out;
    QSet<QString> seen;
    for (const QString &id : ids) {
        if (!seen.contains(id)) {
            seen.insert(id);
            out.append(id);
        }
    }
    return out;
}

} // namespace

Error SqlStorage::recordOperatorAction(const QString &what, const Where &rows)
{
    Query q(*m_connection,
        m_dialect.sql(QStringLiteral("operator-history")).replace(QLatin1String("{{where}}"), rows.sql()));
    q.bind(m_dialect.time(nowMs())).bind(what).bind(actor()).bindAll(rows.values);
    return q.exec(QStringLiteral("cannot record the action in the events' history"));
}

Result<QList<OperatorAction>> SqlStorage::operatorActions(int limit)
{
    Query q(*m_connection, m_dialect.sql(QStringLiteral("operator-actions")));
    q.bind(limit);
    if (Error e = q.exec(QStringLiteral("cannot read the operators' actions")))
        return e;
    QList<OperatorAction> actions;
    while (q.q().next())
        actions.append({m_dialect.readTime(q.q().value(0)), q.q().value(1).toString(), q.q().value(2).toString(),
            q.q().value(3).toLongLong()});
    return actions;
}

Error SqlStorage::addHistoryNote(const QString &id, const QString &what)
{
    Where event;
    event.add(QStringLiteral("id = ?"), id);
    return recordOperatorAction(what, event);
}

Result<bool> SqlStorage::resolveFailed(const QString &id, const QString &note)
{
    Where failed;
    failed.terms << QStringLiteral("status = 'failed'");
    failed.add(QStringLiteral("id = ?"), id);
    Query q(*m_connection, m_dialect.sql(QStringLiteral("resolve-failed")));
    q.bind(QStringLiteral("resolved: ") + note).bind(id);
    bool changed = false;
    Error e = m_connection->inWriteTransaction(QStringLiteral("cannot mark the event resolved"), [&]() -> Error {
        if (Error e = recordOperatorAction(note, failed))
            return e;
        if (Error e = q.exec(QStringLiteral("cannot mark the event resolved")))
            return e;
        changed = q.q().numRowsAffected() > 0;
        return {};
    });
    if (e)
        return e;
    return changed;
}

Result<QList<OutboxEvent>> SqlStorage::takeFailed(
    const QString &owner, const QList<qint64> &sequences, qint64 leaseMs, const QString &note)
{
    if (sequences.isEmpty())
        return QList<OutboxEvent>{};
    const qint64 now = nowMs();
    const SequenceList list = withSequences(m_dialect.sql(QStringLiteral("take-failed")), sequences);
    Query q(*m_connection, list.sql);
    q.bind(owner).bind(m_dialect.time(now + leaseMs)).bind(m_dialect.time(now));
    if (list.json)
        q.bind(*list.json);
    Where taken;
    taken.terms << QStringLiteral("status = 'failed'");
    taken.add(QStringLiteral("lease_owner = ?"), owner);
    Error e = m_connection->inWriteTransaction(QStringLiteral("cannot take failed events"), [&]() -> Error {
        if (Error e = q.exec(QStringLiteral("cannot take failed events")))
            return e;
        return recordOperatorAction(note, taken);
    });
    if (e)
        return e;
    auto rows = eventsBySequence(sequences, true);
    if (!rows.isOk())
        return rows.error();
    QList<OutboxEvent> events;
    for (const OutboxEvent &event : rows.value()) {
        if (event.status == EventStatus::Failed && event.leaseOwner == owner)
            events.append(event);
    }
    std::sort(events.begin(), events.end(),
        [](const OutboxEvent &a, const OutboxEvent &b) { return a.sequence < b.sequence; });
    return events;
}

Result<ActionSummary> SqlStorage::retry(const QStringList &ids)
{
    const QStringList wanted = unique(ids);
    Where rows;
    rows.terms << QStringLiteral("status = 'failed'")
               << QStringLiteral("id IN ") + m_dialect.sql(QStringLiteral("id-list"));
    rows.values << jsonList(wanted);
    Query q(*m_connection, m_dialect.sql(QStringLiteral("retry")));
    q.bind(m_dialect.time(nowMs())).bind(jsonList(wanted));
    Error e = m_connection->inWriteTransaction(QStringLiteral("cannot retry events"), [&]() -> Error {
        if (Error e = recordOperatorAction(QStringLiteral("manual retry"), rows))
            return e;
        return q.exec(QStringLiteral("cannot retry events"));
    });
    if (e)
        return e;
    ActionSummary s;
    s.changed = q.q().numRowsAffected();
    s.skipped = int(wanted.size()) - s.changed;
    return s;
}

Result<ActionSummary> SqlStorage::retryMatching(const EventFilter &filter)
{
    ActionSummary s;
    if (filter.status && *filter.status != EventStatus::Failed)
        return s;
    EventFilter failedOnly = filter;
    failedOnly.status = EventStatus::Failed;
    const Where w = whereFor(failedOnly, m_dialect);
    Query q(
        *m_connection, m_dialect.sql(QStringLiteral("retry-matching")).replace(QLatin1String("{{where}}"), w.sql()));
    q.bind(m_dialect.time(nowMs())).bindAll(w.values);
    Error e = m_connection->inWriteTransaction(QStringLiteral("cannot retry events"), [&]() -> Error {
        if (Error e = recordOperatorAction(QStringLiteral("manual retry"), w))
            return e;
        return q.exec(QStringLiteral("cannot retry events"));
    });
    if (e)
        return e;
    s.changed = q.q().numRowsAffected();
    return s;
}

Result<ActionSummary> SqlStorage::replay(const QStringList &ids)
{
    const QStringList wanted = unique(ids);
    ActionSummary s;
    const QVariant now = m_dialect.time(nowMs());
    Error e = m_connection->inWriteTransaction(QStringLiteral("cannot replay events"), [&]() -> Error {
        for (const QString &id : wanted) {
            const QString newId = createEventId();
            Query q(*m_connection, m_dialect.sql(QStringLiteral("replay")));
            q.bind(newId).bind(now).bind(now).bind(id);
            if (Error e = q.exec(QStringLiteral("cannot replay event '%1'").arg(id)))
                return e;
            if (q.q().numRowsAffected() == 1) {
                Where original;
                original.add(QStringLiteral("id = ?"), id);
                if (Error e = recordOperatorAction(QStringLiteral("replayed as %1").arg(newId), original))
                    return e;
                ++s.changed;
                s.newIds.append(newId);
            } else {
                ++s.skipped;
            }
        }
        return {};
    });
    if (e)
        return e;
    if (s.changed > 0)
        m_dialect.wakeRelayers(*m_connection);
    return s;
}

Result<ActionSummary> SqlStorage::remove(const QStringList &ids)
{
    const QStringList wanted = unique(ids);
    const QString json = jsonList(wanted);
    Query history(*m_connection, m_dialect.sql(QStringLiteral("delete-attempts")));
    history.bind(json);
    Query rows(*m_connection, m_dialect.sql(QStringLiteral("delete-events")));
    rows.bind(json);
    Error e = m_connection->inWriteTransaction(QStringLiteral("cannot delete events"), [&]() -> Error {
        if (Error e = history.exec(QStringLiteral("cannot delete events")))
            return e;
        return rows.exec(QStringLiteral("cannot delete events"));
    });
    if (e)
        return e;
    ActionSummary s;
    s.changed = rows.q().numRowsAffected();
    s.skipped = int(wanted.size()) - s.changed;
    return s;
}

// Paced (see CleanupPacer): on a server, sharing the database means a relayer in the register is alive.
Result<int> SqlStorage::cleanup(const QDateTime &olderThan, const QList<EventStatus> &statuses, int batchSize)
{
    if (statuses.isEmpty())
        return 0;
    if (batchSize < 1)
        return Error(Error::InvalidArgument, QStringLiteral("the batch size must be at least 1"));
    QStringList names;
    for (EventStatus s : statuses)
        names.append(QLatin1Char('\'') + statusName(s) + QLatin1Char('\''));
    const QString list = names.join(QLatin1Char(','));
    const QVariant cutoff = m_dialect.time(toMs(olderThan));
    const QString historySql =
        m_dialect.sql(QStringLiteral("cleanup-attempts")).replace(QLatin1String("{{statuses}}"), list);
    const QString rowsSql =
        m_dialect.sql(QStringLiteral("cleanup-events")).replace(QLatin1String("{{statuses}}"), list);
    std::function<bool()> relayerAlive;
    if (m_dialect.has(Capability::SessionLocks))
        relayerAlive = [this] {
            const auto found = relayers(false);
            return found.isOk() && std::any_of(found->cbegin(), found->cend(), [](const RelayerInfo &r) {
                return r.state == RelayerInfo::State::Alive;
            });
        };
    CleanupPacer pacer(m_dialect, batchSize, relayerAlive);
    int total = 0;
    for (;;) {
        Query history(*m_connection, historySql);
        history.bind(cutoff).bind(pacer.rows());
        Query rows(*m_connection, rowsSql);
        rows.bind(cutoff).bind(pacer.rows());
        pacer.begin();
        QElapsedTimer held;
        Error e = m_connection->inWriteTransaction(QStringLiteral("cannot clean up events"), [&]() -> Error {
            held.start(); // from the moment the lock is ours
            if (Error e = history.exec(QStringLiteral("cannot clean up events")))
                return e;
            return rows.exec(QStringLiteral("cannot clean up events"));
        });
        if (e)
            return e;
        const int n = rows.q().numRowsAffected();
        total += n;
        if (n < pacer.rows())
            return total;
        pacer.rest(n, held.nsecsElapsed() / 1000);
    }
}

} // namespace outbox::detail
